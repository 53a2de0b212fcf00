package org.postern.smtp.api.dns;

import java.net.Inet6Address;
import java.net.InetAddress;

/** Names built from addresses, as DNS lists query them. */
public final class DnsNames {
    private DnsNames() {
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
