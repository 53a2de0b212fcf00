package org.postern.smtp.plugin.ident.p0f.internal;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * p0f 3's API (its README, section 4): a query of 21 octets, an answer of 232. The dwords are in the byte order of
 * the host p0f runs on, which is this one (the API is a local Unix socket); addresses are in network order.
 */
final class P0fApi {
    static final int QUERY_MAGIC = 0x50304601;
    static final int ANSWER_MAGIC = 0x50304602;
    static final int STATUS_BAD_QUERY = 0x00;
    static final int STATUS_OK = 0x10;
    static final int STATUS_NO_MATCH = 0x20;
    static final int QUERY_LENGTH = 21;
    static final int ANSWER_LENGTH = 232;

    private static final ByteOrder HOST_ORDER = ByteOrder.nativeOrder();
    /** Each text field: up to 31 characters and a NUL. */
    private static final int TEXT_LENGTH = 32;

    private P0fApi() {
    }

    /** The query about {@code host}: the magic, 4 or 6, and the address, an IPv4 one left-aligned in 16 octets. */
    static byte[] query(InetAddress host) {
        return ByteBuffer.allocate(QUERY_LENGTH).order(HOST_ORDER)
                .putInt(QUERY_MAGIC)
                .put((byte) (host instanceof Inet4Address ? 4 : 6))
                .put(host.getAddress())
                .array();
    }

    /** Reads an answer of {@value #ANSWER_LENGTH} octets, whatever its magic and status say; the caller checks them. */
    static P0fAnswer answer(byte[] octets) {
        if (octets.length != ANSWER_LENGTH) {
            throw new IllegalArgumentException("a p0f answer has " + ANSWER_LENGTH + " octets, not " + octets.length);
        }
        ByteBuffer in = ByteBuffer.wrap(octets).order(HOST_ORDER);
        return new P0fAnswer(dword(in), dword(in), dword(in), dword(in), dword(in), dword(in), dword(in), dword(in), dword(in),
                in.getShort(), Byte.toUnsignedInt(in.get()), Byte.toUnsignedInt(in.get()),
                text(in), text(in), text(in), text(in), text(in), text(in));
    }

    private static long dword(ByteBuffer in) {
        return Integer.toUnsignedLong(in.getInt());
    }

    /** A NUL-terminated field of {@value #TEXT_LENGTH} octets, read up to its first NUL. */
    private static String text(ByteBuffer in) {
        byte[] field = new byte[TEXT_LENGTH];
        in.get(field);
        int end = 0;
        while (end < field.length && field[end] != 0) {
            end++;
        }
        return new String(field, 0, end, StandardCharsets.ISO_8859_1);
    }
}
