package org.postern.smtp.core.internal.protocol;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.HexFormat;

/**
 * What per-client limits count: an IPv4 address, or an IPv6 network of a configured prefix length (a host
 * usually owns a whole /64, so counting single IPv6 addresses would let one host use millions of them).
 */
public final class ClientNetwork {
    private ClientNetwork() {
    }

    /** A key naming the client's network: the IPv4 address, or the IPv6 prefix of the given length. */
    public static String of(InetAddress client, int ipv6PrefixLength) {
        if (!(client instanceof Inet6Address)) {
            return client.getHostAddress();
        }
        byte[] address = client.getAddress();
        int bits = Math.max(0, Math.min(128, ipv6PrefixLength));
        for (int bit = bits; bit < 128; bit++) {
            address[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        return HexFormat.of().formatHex(address) + "/" + bits;
    }
}
