package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;

/** Every limit with a small configured value: a clear SMTP error or a clean disconnect, never a hang. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class LimitsIT extends PosternTestSupport {
    private static final Map<String, Object> LIMITS = Map.of(
            "max.message.size", 2000,
            "max.recipients", 3,
            "max.command.line.length", 100,
            "max.line.length", 1000,
            "max.header.size", 600,
            "command.timeout", 2,
            "data.timeout", 2,
            "max.connections.per.ip", 4,
            "max.errors", 5);
    private static int port;

    @Before
    public void start() throws Exception {
        if (port == 0) {
            port = startServer(LIMITS);
        }
        hook(HookType.RCPT, 10, ctx -> HookResult.ok());
        hook(HookType.QUEUE, 10, ctx -> HookResult.ok());
    }

    private SmtpClient inTransaction() throws Exception {
        return SmtpClient.inTransaction(port);
    }

    @Test
    public void sizeIsAdvertisedAndEnforcedForDeclaredAndActualSize() throws Exception {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            assertTrue(client.command("EHLO client.example").contains("250-SIZE 2000"));
            assertEquals("552 5.3.4 Message size exceeds fixed maximum message size", client.command("MAIL FROM:<a@example.org> SIZE=2001"));
            assertTrue(client.command("MAIL FROM:<a@example.org> SIZE=1999").startsWith("250"));
        }
        try (SmtpClient client = inTransaction()) {
            client.command("DATA");
            String line = "x".repeat(98) + "\r\n";
            assertEquals("552 5.3.4 Message too big!", client.command("Subject: big\r\n\r\n" + line.repeat(30) + "."));
            assertEquals("250 2.0.0 OK", client.command("NOOP"));
        }
    }

    @Test
    public void recipientsPerTransactionAreCapped() throws Exception {
        try (SmtpClient client = inTransaction()) {
            client.command("RCPT TO:<c@example.org>");
            client.command("RCPT TO:<d@example.org>");
            assertEquals("452 4.5.3 Too many recipients", client.command("RCPT TO:<e@example.org>"));
        }
    }

    @Test
    public void longLinesAreRefusedWithoutBufferingThem() throws Exception {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            assertEquals("500 5.5.2 Line too long", client.command("NOOP " + "y".repeat(200)));
            assertEquals("500 5.5.2 Line too long", client.command("NOOP " + "z".repeat(100_000)));
            assertEquals("250 2.0.0 OK", client.command("NOOP"));
        }
        try (SmtpClient client = inTransaction()) {
            client.command("DATA");
            assertEquals("500 5.5.2 Message line too long", client.command("Subject: x\r\n\r\n" + "w".repeat(1500) + "\r\n."));
        }
        try (SmtpClient client = inTransaction()) {
            client.command("DATA");
            String header = "X-Long: " + "h".repeat(90) + "\r\n";
            assertEquals("552 5.3.4 Message header too large", client.command(header.repeat(8) + "\r\nbody\r\n."));
        }
    }

    @Test
    public void idleClientsAreDisconnectedWith421() throws Exception {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            long start = System.nanoTime();
            assertEquals("421 4.4.2 test.postern Timeout; closing connection", client.reply());
            assertTrue(System.nanoTime() - start >= 1_500_000_000L);
            assertTrue(client.closedByServerWithin(2000));
        }
        try (SmtpClient client = inTransaction()) {
            assertTrue(client.command("DATA").startsWith("354"));
            client.send("Subject: slow\r\n");
            assertEquals("421 4.4.2 test.postern Timeout; closing connection", client.reply());
            assertTrue(client.closedByServerWithin(2000));
        }
    }

    @Test
    public void connectionsPerIpAreCapped() throws Exception {
        List<SmtpClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                SmtpClient client = new SmtpClient(port);
                open.add(client);
                assertTrue(client.reply().startsWith("220"));
            }
            try (SmtpClient refused = new SmtpClient(port)) {
                assertEquals("421 4.7.0 test.postern Too many connections, try again later", refused.reply());
                assertTrue(refused.closedByServerWithin(2000));
            }
        } finally {
            for (SmtpClient client : open) {
                client.close();
            }
        }
        await("a freed connection slot", () -> {
            try (SmtpClient client = new SmtpClient(port)) {
                String greeting = client.reply();
                return greeting != null && greeting.startsWith("220");
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    public void tooManySyntaxErrorsEndTheSession() throws Exception {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            for (int i = 0; i < 4; i++) {
                assertTrue(client.command("BOGUS " + i).startsWith("500"));
            }
            assertEquals("250 2.0.0 OK", client.command("NOOP"));
            assertTrue(client.command("MAIL FROM:<a@example.org>").startsWith("503"));
            assertEquals("421 4.7.0 test.postern Too many errors, closing connection", client.reply());
            assertTrue(client.closedByServerWithin(2000));
        }
    }

    @Test
    public void garbageGetsErrorRepliesAndNeverStopsTheServer() throws Exception {
        java.util.Random random = new java.util.Random(42);
        for (int round = 0; round < 20; round++) {
            byte[] noise = new byte[1 + random.nextInt(4000)];
            random.nextBytes(noise);
            try (SmtpClient client = new SmtpClient(port)) {
                client.reply();
                client.send(new String(noise, java.nio.charset.StandardCharsets.ISO_8859_1) + "\r\n");
                client.setTimeoutMillis(3000);
                String reply;
                while ((reply = client.reply()) != null && !reply.startsWith("250 2.0.0 OK")) {
                    assertTrue("round " + round + ": " + reply, reply.matches("(?s)(5\\d\\d|421|250|252|214|354|451|503) .*"));
                    if (reply.startsWith("354")) {
                        client.send("\r\n.\r\n");
                    } else {
                        client.send("NOOP\r\n");
                    }
                }
            } catch (java.net.SocketTimeoutException | java.net.SocketException closedOrSilent) {
                // a closed connection is a clean answer to garbage; the server must still serve the next client
            }
        }
        try (SmtpClient client = new SmtpClient(port)) {
            assertTrue(client.reply().startsWith("220"));
            assertEquals("250 2.0.0 OK", client.command("NOOP"));
        }
    }

    private static final String BARE_LINE_ENDING =
            "500 5.5.2 Syntax error: a command line must end with CRLF and hold no bare CR, LF or NUL (RFC 5321 2.3.8)";

    @Test
    public void aBareLfCrOrNulInACommandLineGetsOneReplyAndNeverRunsTwoCommands() throws Exception {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            client.command("EHLO client.example");
            assertEquals(BARE_LINE_ENDING, client.command("MAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>"));
            assertEquals(BARE_LINE_ENDING, client.command("MAIL FROM:<a@example.org>\rRCPT TO:<b@example.org>"));
            assertEquals(BARE_LINE_ENDING, client.command("NOOP\0RSET"));
            assertEquals("500 5.5.2 Syntax error: a command line must not start with white space", client.command(" NOOP"));
            // nothing else was answered: the next reply is the next command's
            assertEquals("503 5.5.1 Use MAIL before RCPT", client.command("RCPT TO:<b@example.org>"));
        }
    }

    /** Published SMTP smuggling end-of-data variants (SEC Consult, 2023); a smuggled transaction follows each. */
    private static final List<String> SMUGGLED_ENDINGS = List.of("\n.\n", "\n.\r\n", "\r.\r\n", "\r.\n", "\r\n.\n",
            "\r\n.\r", "\r\n.\r\r\n", "\r\n\0.\r\n");
    private static final String SMUGGLED = "MAIL FROM:<evil@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n";

    private static boolean bare(String ending) {
        String rest = ending.replace("\r\n", "");
        return rest.contains("\r") || rest.contains("\n");
    }

    @Test
    public void byDefaultBareLineEndingsInDataAreStoredAsCrLfAndNeverEndIt() throws Exception {
        List<String> bodies = new java.util.concurrent.CopyOnWriteArrayList<>();
        hook(HookType.DATA_POST, 5, ctx -> {
            try {
                bodies.add(new String(ctx.transaction().body().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return HookResult.declined();
        });
        for (String ending : SMUGGLED_ENDINGS) {
            try (SmtpClient client = inTransaction()) {
                assertTrue(client.command("DATA").startsWith("354"));
                client.send("Subject: x\r\n\r\nbody" + ending + SMUGGLED + "\r\n.\r\n");
                String what = ending.replace("\r", "<CR>").replace("\n", "<LF>").replace("\0", "<NUL>");
                assertEquals(what, "250 2.0.0 Queued", client.reply());
                assertEquals(what, "250 2.0.0 OK", client.command("NOOP"));
            }
        }
        assertEquals(SMUGGLED_ENDINGS.size(), bodies.size());
        assertEquals("line breaks normalised to CRLF, the lone dot kept as content",
                "body\r\n.\r\n" + SMUGGLED + "\r\n", bodies.get(0));
        for (String body : bodies) {
            assertTrue(body, body.contains(SMUGGLED) && !body.replace("\r\n", "").contains("\n") && !body.replace("\r\n", "").contains("\r"));
        }
    }

    @Test
    public void inRejectModeABareLineEndingInDataRefusesTheMessageAndCloses() throws Exception {
        Map<String, Object> reject = new java.util.HashMap<>(LIMITS);
        reject.put("bare.line.endings", "reject");
        int rejecting = startServer(reject);
        try {
            for (String ending : SMUGGLED_ENDINGS) {
                try (SmtpClient client = SmtpClient.inTransaction(rejecting)) {
                    client.command("DATA");
                    client.send("Subject: x\r\n\r\nbody" + ending + SMUGGLED + "\r\n.\r\n");
                    String what = ending.replace("\r", "<CR>").replace("\n", "<LF>").replace("\0", "<NUL>");
                    if (bare(ending)) {
                        assertEquals(what, "554 5.6.11 Bare LF or CR in message data is not allowed (RFC 5321 2.3.8); message rejected",
                                client.reply());
                        assertTrue(what, client.closedByServerWithin(2000));
                    } else {
                        assertEquals(what, "250 2.0.0 Queued", client.reply());
                        assertEquals(what, "250 2.0.0 OK", client.command("NOOP"));
                    }
                }
            }
        } finally {
            port = startServer(LIMITS);
        }
    }
}
