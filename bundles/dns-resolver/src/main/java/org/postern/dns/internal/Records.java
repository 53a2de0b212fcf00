package org.postern.dns.internal;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.dns.DnsPtrRecord;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import org.postern.smtp.api.dns.MxRecord;

/** Reads the data of the record types Postern asks for out of Netty's decoded records. */
final class Records {
    private static final int MAX_POINTER_JUMPS = 64;

    private Records() {
    }

    /** An A or AAAA record's address, or null for a record of the wrong size. */
    static InetAddress address(DnsRecord record) {
        ByteBuf data = ((DnsRawRecord) record).content();
        int expected = record.type() == DnsRecordType.A ? 4 : 16;
        if (data.readableBytes() != expected) {
            return null;
        }
        byte[] bytes = new byte[expected];
        data.getBytes(data.readerIndex(), bytes);
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    static MxRecord mx(DnsRecord record) {
        ByteBuf data = ((DnsRawRecord) record).content();
        int preference = data.getUnsignedShort(data.readerIndex());
        return new MxRecord(preference, name(data, data.readerIndex() + 2));
    }

    /** A TXT record's character-strings joined without separators (RFC 7208 3.3). */
    static String txt(DnsRecord record) {
        ByteBuf data = ((DnsRawRecord) record).content();
        StringBuilder text = new StringBuilder();
        int at = data.readerIndex();
        int end = data.writerIndex();
        while (at < end) {
            int length = data.getUnsignedByte(at);
            int stop = Math.min(at + 1 + length, end);
            text.append(data.toString(at + 1, stop - at - 1, StandardCharsets.ISO_8859_1));
            at = stop;
        }
        return text.toString();
    }

    static String ptr(DnsRecord record) {
        return withoutTrailingDot(((DnsPtrRecord) record).hostname());
    }

    /**
     * A domain name at {@code start}, following compression pointers (RFC 1035 4.1.4). Netty hands a record's
     * data as a view of the whole message, so a pointer's offset is an index into the same buffer.
     */
    static String name(ByteBuf message, int start) {
        StringBuilder name = new StringBuilder();
        int at = start;
        for (int jumps = 0; jumps <= MAX_POINTER_JUMPS; ) {
            int length = message.getUnsignedByte(at);
            if ((length & 0xC0) == 0xC0) {
                at = ((length & 0x3F) << 8) | message.getUnsignedByte(at + 1);
                jumps++;
                continue;
            }
            if (length == 0) {
                return name.toString();
            }
            if (name.length() > 0) {
                name.append('.');
            }
            name.append(message.toString(at + 1, length, StandardCharsets.ISO_8859_1));
            at += 1 + length;
        }
        throw new IllegalArgumentException("a name with a compression loop");
    }

    static String withoutTrailingDot(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    /** The negative-caching TTL an SOA record in the authority section gives (RFC 2308 5): min(its TTL, MINIMUM). */
    static long negativeTtl(DnsRecord soa) {
        ByteBuf data = ((DnsRawRecord) soa).content();
        if (data.readableBytes() < 20) {
            return 0;
        }
        long minimum = data.getUnsignedInt(data.writerIndex() - 4);
        return Math.min(soa.timeToLive(), minimum);
    }
}
