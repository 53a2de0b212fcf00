package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * earlytalker side by side with qpsmtpd's plugin of the same name, over real sockets: once with the defaults
 * (refuse at connect), once with {@code defer-reject 1 check-at CONNECT check-at DATA}. A client that talks
 * first writes before it reads anything.
 */
public class EarlytalkerReferenceIT {
    private static final String REFUSAL = "Connecting host started transmitting before SMTP greeting";
    private static final List<ServerProcess> SERVERS = new java.util.ArrayList<>();
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;
    private static ServerProcess deferringQpsmtpd;
    private static ServerProcess deferringPostern;

    @BeforeClass
    public static void startAll() throws Exception {
        qpsmtpd = started(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(), "earlytalker"));
        postern = started(ServerProcess.posternWithPlugins("earlytalker", Map.of(), List.of("plugin-earlytalker")))
                .awaitPlugin("earlytalker");
        deferringQpsmtpd = started(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(),
                "earlytalker defer-reject 1 check-at CONNECT check-at DATA"));
        deferringPostern = started(ServerProcess.posternWithPlugins("earlytalker-deferring",
                Map.of("org.postern.smtp.plugin.earlytalker.cfg", "defer-reject = 1\ncheck-at = CONNECT, DATA"),
                List.of("plugin-earlytalker"))).awaitPlugin("earlytalker");
    }

    private static ServerProcess started(ServerProcess server) {
        SERVERS.add(server);
        return server;
    }

    @AfterClass
    public static void stopAll() throws Exception {
        for (ServerProcess server : SERVERS) {
            server.close();
        }
    }

    @Test
    public void aClientThatTalksBeforeTheGreetingIsRefusedAndLetGo() throws Exception {
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            try (SmtpClient client = new SmtpClient(server.port)) {
                client.send("EHLO early.example\r\n");
                assertEquals("550 " + REFUSAL, withoutStatus(client.reply()));
                assertTrue("the server closes the connection", client.closedByServerWithin(5000));
            }
        }
    }

    @Test
    public void aClientThatWaitsIsGreetedWhenTheSecondIsOver() throws Exception {
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            try (SmtpClient client = new SmtpClient(server.port)) {
                long start = System.nanoTime();
                String greeting = client.reply();
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertTrue(greeting, greeting.startsWith("220 "));
                assertTrue("greeted after " + millis + " ms", millis >= 900);
            }
        }
    }

    @Test
    public void deferRejectGreetsAnEarlyTalkerAndRefusesItsSenderForNow() throws Exception {
        assertEquals(deferredConversation(deferringQpsmtpd.port), deferredConversation(deferringPostern.port));
        assertEquals(List.of("220", "250", "450 " + REFUSAL), deferredConversation(deferringPostern.port));
    }

    /** Greeting and EHLO reply codes, then the whole MAIL reply, of a client that said EHLO before the greeting. */
    private static List<String> deferredConversation(int port) throws Exception {
        try (SmtpClient client = new SmtpClient(port)) {
            client.send("EHLO early.example\r\n");
            String greeting = client.reply().substring(0, 3);
            String ehlo = client.reply().substring(0, 3);
            return List.of(greeting, ehlo, withoutStatus(client.command("MAIL FROM:<a@example.org>")));
        }
    }

    @Test
    public void deferRejectLetsAClientThatWaitedSendMail() throws Exception {
        for (ServerProcess server : List.of(deferringQpsmtpd, deferringPostern)) {
            try (SmtpClient client = new SmtpClient(server.port)) {
                assertTrue(client.reply().startsWith("220 "));
                client.command("HELO client.example");
                String mail = client.command("MAIL FROM:<a@example.org>");
                assertTrue(mail, mail.startsWith("250 "));
                assertTrue(client.command("RCPT TO:<b@localhost>").startsWith("250 "));
            }
        }
    }

    @Test
    public void checkAtDataRefusesAMessageSentBeforeThe354() throws Exception {
        assertEquals("451 " + REFUSAL, dataReply(deferringQpsmtpd.port, true));
        assertEquals("451 " + REFUSAL, dataReply(deferringPostern.port, true));
    }

    /**
     * qpsmtpd misses a message that came with the DATA line in one write: its buffered reading took the message
     * off the socket with the command, so its check of the socket finds nothing and it answers 354. Postern sees
     * input that it has not yet answered, wherever it is buffered.
     */
    @Test
    public void checkAtDataRefusesAMessageSentInOneWriteWithTheDataLine() throws Exception {
        assertEquals("451 " + REFUSAL, dataReply(deferringPostern.port, false));
    }

    @Test
    public void checkAtDataGivesA354ToAClientThatWaitsForIt() throws Exception {
        for (ServerProcess server : List.of(deferringQpsmtpd, deferringPostern)) {
            try (SmtpClient client = inTransaction(server.port)) {
                String reply = client.command("DATA");
                assertTrue(reply, reply.startsWith("354"));
                assertTrue(client.command("Subject: polite\r\n\r\nhello\r\n.").startsWith("250 "));
            }
        }
    }

    /** The reply to DATA when the message follows it at once, 200 ms later or in the same write. */
    private static String dataReply(int port, boolean separateWrite) throws Exception {
        try (SmtpClient client = inTransaction(port)) {
            String message = "Subject: hasty\r\n\r\nhello\r\n.\r\n";
            if (separateWrite) {
                client.send("DATA\r\n");
                Thread.sleep(200);
                client.send(message);
            } else {
                client.send("DATA\r\n" + message);
            }
            return withoutStatus(client.reply());
        }
    }

    private static SmtpClient inTransaction(int port) throws Exception {
        SmtpClient client = new SmtpClient(port);
        client.reply();
        client.command("HELO client.example");
        client.command("MAIL FROM:<a@example.org>");
        client.command("RCPT TO:<b@localhost>");
        return client;
    }

    /** A reply without the enhanced status code Postern adds. */
    private static String withoutStatus(String reply) {
        return reply.replaceFirst("^(\\d{3}) \\d\\.\\d{1,3}\\.\\d{1,3} ", "$1 ");
    }
}
