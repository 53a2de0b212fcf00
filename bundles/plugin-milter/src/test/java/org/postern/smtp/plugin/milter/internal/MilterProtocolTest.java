package org.postern.smtp.plugin.milter.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MilterProtocolTest {
    /** The packet as hex, after checking that its length prefix counts the command octet and the data. */
    private static String hex(ByteBuf packet) {
        byte[] bytes = ByteBufUtil.getBytes(packet);
        packet.release();
        assertEquals(bytes.length - 4, ByteBuffer.wrap(bytes).getInt(), "length prefix");
        return HexFormat.of().formatHex(bytes, 4, bytes.length);
    }

    private static String text(String s) {
        return HexFormat.of().formatHex(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void optionNegotiationOffersVersion6AllActionsAndTheProtocolFlagsItCanHonour() {
        assertEquals("4f" + "00000006" + "000001ff" + "000ff7ff",
                hex(MilterProtocol.optionNegotiation(MilterProtocol.ALL_ACTIONS, MilterProtocol.OFFERED_PROTOCOL)));
        assertEquals(0, MilterProtocol.OFFERED_PROTOCOL & MilterProtocol.RCPT_REJ, "rejected recipients are never sent");
    }

    @Test
    void connectCarriesHostNameFamilyPortAndAddress() throws Exception {
        InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 4321);
        assertEquals("43" + text("client.example\0") + "34" + "10e1" + text("192.0.2.7\0"), hex(MilterProtocol.connect("client.example", v4)));
        InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 25);
        assertTrue(hex(MilterProtocol.connect("[2001:db8::1]", v6)).startsWith("43" + text("[2001:db8::1]\0") + "36" + "0019"));
    }

    @Test
    void macrosNameTheCommandTheyBelongToThenNameValuePairs() {
        Map<String, String> macros = new LinkedHashMap<>();
        macros.put("i", "4711.1");
        macros.put("{mail_addr}", "a@example.org");
        assertEquals("44" + "4d" + text("i\0004711.1\0{mail_addr}\0a@example.org\0"), hex(MilterProtocol.macros('M', macros)));
    }

    @Test
    void envelopeCommandsSendThePathThenEachEsmtpArgument() {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("size", "1234");
        parameters.put("smtputf8", "");
        assertEquals("4d" + text("<a@example.org>\0SIZE=1234\0SMTPUTF8\0"), hex(MilterProtocol.envelope('M', "<a@example.org>", parameters)));
        assertEquals("52" + text("<b@example.org>\0"), hex(MilterProtocol.envelope('R', "<b@example.org>", Map.of())));
    }

    @Test
    void heloDataEohEndOfBodyAbortAndQuit() {
        assertEquals("48" + text("client.example\0"), hex(MilterProtocol.helo("client.example")));
        assertEquals("54", hex(MilterProtocol.command(MilterProtocol.DATA)));
        assertEquals("4e", hex(MilterProtocol.command(MilterProtocol.EOH)));
        assertEquals("45", hex(MilterProtocol.command(MilterProtocol.BODYEOB)));
        assertEquals("41", hex(MilterProtocol.command(MilterProtocol.ABORT)));
        assertEquals("51", hex(MilterProtocol.command(MilterProtocol.QUIT)));
    }

    @Test
    void aHeaderGoesWithoutItsLeadingSpaceAndWithFoldsAsLf() {
        assertEquals("4c" + text("Subject\0Hello\n\tworld\0"), hex(MilterProtocol.header("Subject", " Hello\r\n\tworld")));
    }

    @Test
    void aBodyChunkIsAtMost65535Octets() {
        byte[] chunk = new byte[70_000];
        assertEquals(65535 * 2 + 2, hex(MilterProtocol.body(chunk, 65535)).length());
        assertThrows(IllegalArgumentException.class, () -> MilterProtocol.body(chunk, 65536));
    }

    private static MilterReply reply(String hex) throws IOException {
        return MilterReply.decode(Unpooled.wrappedBuffer(HexFormat.of().parseHex(hex)));
    }

    @Test
    void theNegotiationReplyGivesVersionActionsProtocolAndTheMacrosWantedPerStage() throws Exception {
        MilterReply.Negotiation negotiation = reply("4f" + "00000006" + "00000011" + "00080080" + "00000002"
                + text("i {auth_authen}\0") + "00000000" + text("j\0")).negotiation();
        assertEquals(6, negotiation.version());
        assertEquals(MilterProtocol.ADDHDRS | MilterProtocol.CHGHDRS, negotiation.actions());
        assertEquals(MilterProtocol.NR_BODY | MilterProtocol.NR_HDR, negotiation.protocol());
        assertEquals(Set.of("i", "{auth_authen}"), negotiation.macrosAt(MilterProtocol.STAGE_MAIL));
        assertEquals(Set.of("j"), negotiation.macrosAt(MilterProtocol.STAGE_CONNECT));
        assertNull(negotiation.macrosAt(MilterProtocol.STAGE_RCPT), "no list: every macro");
        assertThrows(IOException.class, () -> reply("63").negotiation());
    }

    @Test
    void eachReplyKindDecodes() throws Exception {
        for (char code : "acdrtps".toCharArray()) {
            MilterReply reply = reply(HexFormat.of().toHexDigits((byte) code));
            assertEquals(code, reply.code());
            assertFalse(reply.modification(), "a verdict: " + code);
        }
        MilterReply replyCode = reply("79" + text("550-5.7.1 first\r\n550 5.7.1 second\0"));
        assertEquals("550-5.7.1 first\r\n550 5.7.1 second", replyCode.replyText());
        MilterReply added = reply("68" + text("X-Test\0yes\0"));
        assertTrue(added.modification());
        assertEquals(List.of("X-Test", "yes"), added.strings());
        MilterReply inserted = reply("69" + "00000002" + text("DKIM-Signature\0v=1;\n\ta=rsa-sha256\0"));
        assertEquals(2, inserted.index());
        assertEquals(List.of("DKIM-Signature", "v=1;\n\ta=rsa-sha256"), inserted.strings(4));
        for (char code : "himb+2-eq".toCharArray()) {
            assertTrue(reply(HexFormat.of().toHexDigits((byte) code) + "00000000").modification(), "a modification: " + code);
        }
        assertThrows(IOException.class, () -> MilterReply.decode(Unpooled.EMPTY_BUFFER));
    }

    @Test
    void addressesAreWrittenAsPostfixsSmtpdMilters() {
        assertEquals(InetSocketAddress.createUnresolved("127.0.0.1", 8891), MilterClient.parse("inet:8891@127.0.0.1"));
        assertEquals(InetSocketAddress.createUnresolved("localhost", 8891), MilterClient.parse("inet:8891"));
        assertEquals(UnixDomainSocketAddress.of("/run/opendkim/opendkim.sock"), MilterClient.parse("unix:/run/opendkim/opendkim.sock"));
        assertThrows(IllegalArgumentException.class, () -> MilterClient.parse("tcp:8891"));
    }

    @Test
    void aReplyCodeBecomesThatReplyMultiLineAllowed() {
        var single = Milter.replyCode("554 5.7.1 Virus found");
        assertEquals("DENY 554 5.7.1 Virus found", single.toString());
        var multi = Milter.replyCode("451-4.7.1 Greylisted\r\n451 4.7.1 Come back later");
        assertEquals("DENYSOFT 451 4.7.1 Greylisted / Come back later", multi.toString());
        assertEquals("DENY 550 no enhanced code", Milter.replyCode("550 no enhanced code").toString());
        assertArrayEquals(new Object[] {"Temporary failure, the milter's reply was not understood"}, Milter.replyCode("hello").message().toArray());
    }
}
