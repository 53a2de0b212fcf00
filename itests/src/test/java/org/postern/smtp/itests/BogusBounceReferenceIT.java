package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * bogus_bounce side by side with qpsmtpd's plugin of the same name, both told to refuse ({@code reject 1}): the
 * same messages get the same replies after DATA, except where qpsmtpd 0.94's code misses what its documentation
 * promises (a bounce to several recipients) or refuses what it means to allow ({@code Return-Path: <>}).
 */
public class BogusBounceReferenceIT {
    private static final String PLAIN = "Subject: delivery report\r\n\r\nYour message could not be delivered.\r\n";
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startBoth() throws Exception {
        qpsmtpd = ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(), "bogus_bounce reject 1");
        postern = ServerProcess.posternWithPlugins("bogus_bounce", Map.of("org.postern.smtp.plugin.bogus_bounce.cfg", "reject = 1"),
                List.of("plugin-bogus-bounce")).awaitPlugin("bogus_bounce");
    }

    @AfterClass
    public static void stopBoth() throws Exception {
        if (qpsmtpd != null) {
            qpsmtpd.close();
        }
        if (postern != null) {
            postern.close();
        }
    }

    @Test
    public void genuineBouncesAndOtherMailAreQueuedByBoth() throws Exception {
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            assertQueued(server, "<>", List.of("<postmaster@localhost>"), PLAIN);
            assertQueued(server, "<sender@example.org>", List.of("<postmaster@localhost>"), "Return-Path: <sender@example.org>\r\n" + PLAIN);
            assertQueued(server, "<sender@example.org>", List.of("<a@localhost>", "<b@localhost>"), PLAIN);
        }
    }

    @Test
    public void aBounceWithAReturnPathGetsQpsmtpdsReply() throws Exception {
        String mail = "Return-Path: <someone@example.org>\r\n" + PLAIN;
        String expected = "552 a bounce return path must be empty (RFC 3834)";
        assertEquals(expected, afterData(qpsmtpd.port, "<>", List.of("<postmaster@localhost>"), mail));
        assertEquals(expected, withoutStatus(afterData(postern.port, "<>", List.of("<postmaster@localhost>"), mail)));
    }

    /** qpsmtpd counts the recipients in scalar context, so it always sees one; its documentation refuses more. */
    @Test
    public void aBounceToSeveralRecipientsIsRefusedWhereQpsmtpdMissesIt() throws Exception {
        List<String> two = List.of("<a@localhost>", "<b@localhost>");
        assertTrue(afterData(qpsmtpd.port, "<>", two, PLAIN).startsWith("250 "));
        assertEquals("552 5.7.1 fail, this bounce message does not have 1 recipient", afterData(postern.port, "<>", two, PLAIN));
    }

    /** qpsmtpd compares the header value with its line end still on it, so even an empty Return-Path fails. */
    @Test
    public void anEmptyReturnPathIsAllowedWhereQpsmtpdRefusesIt() throws Exception {
        String mail = "Return-Path: <>\r\n" + PLAIN;
        assertEquals("552 a bounce return path must be empty (RFC 3834)",
                afterData(qpsmtpd.port, "<>", List.of("<postmaster@localhost>"), mail));
        assertTrue(afterData(postern.port, "<>", List.of("<postmaster@localhost>"), mail).startsWith("250 "));
    }

    private static void assertQueued(ServerProcess server, String sender, List<String> recipients, String message) throws Exception {
        String reply = afterData(server.port, sender, recipients, message);
        assertTrue((server == qpsmtpd ? "qpsmtpd, " : "Postern, ") + sender + " to " + recipients + ": " + reply, reply.startsWith("250 "));
    }

    /** The reply to the end of the message. */
    private static String afterData(int port, String sender, List<String> recipients, String message) throws Exception {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            client.command("HELO client.example");
            client.command("MAIL FROM:" + sender);
            for (String recipient : recipients) {
                String reply = client.command("RCPT TO:" + recipient);
                assertTrue(recipient + ": " + reply, reply.startsWith("250 "));
            }
            String go = client.command("DATA");
            assertTrue(go, go.startsWith("354"));
            return client.command(message + ".");
        }
    }

    private static String withoutStatus(String reply) {
        return reply.replaceFirst("^(\\d{3}) \\d\\.\\d{1,3}\\.\\d{1,3} ", "$1 ");
    }
}
