package org.postern.dns.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DefaultDnsResponse;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.dns.DnsFailure;
import org.postern.smtp.api.dns.MxRecord;

/** Reading records and responses, with messages built byte by byte where a server would never send them. */
class RecordsTest {
    private static final ResolverSettings SETTINGS = new ResolverSettings(1000, 100, 60, 3600, 900);
    private static final Lookups.Kind<InetAddress> A = new Lookups.Kind<>(DnsRecordType.A, Records::address);

    @Test
    void namesFollowCompressionPointersIntoTheWholeMessage() {
        // "example.org" at offset 0, then at offset 13 the data of an MX: preference 10, "mx" + pointer to 0
        ByteBuf message = Unpooled.wrappedBuffer(new byte[] {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0,
            0, 10, 2, 'm', 'x', (byte) 0xC0, 0});
        ByteBuf data = message.duplicate().setIndex(13, message.capacity());
        assertEquals(new MxRecord(10, "mx.example.org"), Records.mx(new DefaultDnsRawRecord("example.org.", DnsRecordType.MX, 60, data)));
        assertEquals(new MxRecord(0, ""), Records.mx(new DefaultDnsRawRecord("null.test.", DnsRecordType.MX, 60,
                Unpooled.wrappedBuffer(new byte[] {0, 0, 0}))), "RFC 7505's null MX");
    }

    @Test
    void aPointerLoopIsRefusedNotFollowedForever() {
        ByteBuf loop = Unpooled.wrappedBuffer(new byte[] {(byte) 0xC0, 0});
        assertThrows(IllegalArgumentException.class, () -> Records.name(loop, 0));
    }

    @Test
    void aTxtRecordsStringsAreJoined() {
        ByteBuf data = Unpooled.wrappedBuffer(new byte[] {3, 'a', 'b', 'c', 0, 2, 'd', 'e'});
        assertEquals("abcde", Records.txt(new DefaultDnsRawRecord("t.test.", DnsRecordType.TXT, 60, data)));
    }

    @Test
    void negativeAnswersAreKeptForTheSoasTtlOrMinimumWhicheverIsLess() {
        DnsResponse nxdomain = new DefaultDnsResponse(1).setCode(DnsResponseCode.NXDOMAIN);
        nxdomain.addRecord(DnsSection.AUTHORITY, soa(600, 300));
        Lookups.Answer answer = lookups().read("gone.test.", A, nxdomain);
        assertEquals(List.of(), answer.records());
        assertEquals(300, answer.ttlSeconds());
        DnsResponse longNegative = new DefaultDnsResponse(2).setCode(DnsResponseCode.NXDOMAIN);
        longNegative.addRecord(DnsSection.AUTHORITY, soa(86_400, 86_400));
        assertEquals(900, lookups().read("gone.test.", A, longNegative).ttlSeconds(), "capped by max.negative.ttl");
        assertEquals(0, lookups().read("gone.test.", A, new DefaultDnsResponse(3).setCode(DnsResponseCode.NXDOMAIN)).ttlSeconds(),
                "RFC 2308: no SOA, not cached");
    }

    @Test
    void ttlsAreClampedAndServerFailuresAreFailures() throws Exception {
        DefaultDnsResponse shortLived = new DefaultDnsResponse(4);
        shortLived.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord("a.test.", DnsRecordType.A, 5,
                Unpooled.wrappedBuffer(new byte[] {(byte) 192, 0, 2, 1})));
        Lookups.Answer answer = lookups().read("a.test.", A, shortLived);
        assertEquals(List.of(InetAddress.getByName("192.0.2.1")), answer.records());
        assertEquals(60, answer.ttlSeconds(), "min.ttl");
        DnsFailure failure = assertThrows(DnsFailure.class,
                () -> lookups().read("a.test.", A, new DefaultDnsResponse(5).setCode(DnsResponseCode.SERVFAIL)));
        assertEquals(DnsFailure.Kind.SERVER_FAILURE, failure.kind());
    }

    private static Lookups lookups() {
        return new Lookups(new io.netty.channel.embedded.EmbeddedChannel().eventLoop(), List.of(), SETTINGS);
    }

    /** An SOA record: two root names, then serial, refresh, retry, expire and minimum. */
    private static DefaultDnsRawRecord soa(long ttl, int minimum) {
        ByteBuf data = Unpooled.buffer();
        data.writeByte(0).writeByte(0).writeInt(1).writeInt(7200).writeInt(900).writeInt(1_209_600).writeInt(minimum);
        return new DefaultDnsRawRecord("test.", DnsRecordType.SOA, ttl, data);
    }
}
