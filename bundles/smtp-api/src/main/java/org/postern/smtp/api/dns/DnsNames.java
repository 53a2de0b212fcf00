package org.postern.smtp.api.dns;

import java.net.Inet6Address;
import java.net.InetAddress;

/** Names built from addresses, as DNS lists query them. */
public final class DnsNames {
    private DnsNames() {
    }

    /**
     * True when an A record of an IP or domain list means "listed" by RFC 5782 2.1's convention: 127.0.0.2 up to
     * 127.255.254.255. Never 127.0.0.1, and never 127.255.255.x, the error codes lists answer to queries they
     * refuse (Spamhaus: through a public resolver, over quota): taken for listings, they would list everyone.
     */
    public static boolean isListing(InetAddress answer) {
        byte[] octets = answer.getAddress();
        if (octets.length != 4 || octets[0] != 127) {
            return false;
        }
        int host = (octets[1] & 0xff) << 16 | (octets[2] & 0xff) << 8 | octets[3] & 0xff;
        return host >= 2 && host < 0xffff00;
    }

    /**
     * The query prefix of an address in an IP-based DNS list (RFC 5782 2.1 and 2.4): reversed octets for
     * IPv4 ({@code 192.0.2.1} → {@code 1.2.0.192}), reversed nibbles for IPv6. Append {@code "." + zone}.
     */
    public static String reversed(InetAddress address) {
        byte[] bytes = address.getAddress();
        StringBuilder name = new StringBuilder(address instanceof Inet6Address ? 64 : 16);
        for (int i = bytes.length - 1; i >= 0; i--) {
            if (address instanceof Inet6Address) {
                name.append(Character.forDigit(bytes[i] & 0xf, 16)).append('.').append(Character.forDigit((bytes[i] >> 4) & 0xf, 16));
            } else {
                name.append(bytes[i] & 0xff);
            }
            if (i > 0) {
                name.append('.');
            }
        }
        return name.toString();
    }
}
