package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * The distribution as it ships: the default plugin set in its deploy/ folder (hosts_allow, earlytalker, relay,
 * helo, count_unrecognized_commands, loop, headers; rcpt_ok and queue/maildir come from bundle/) with the
 * default etc/, side by side with qpsmtpd running the same plugin lines with their defaults.
 */
public class DefaultConfigurationIT {
    private static final List<String> DEFAULT_SET = List.of("hosts_allow", "earlytalker", "relay", "helo",
            "count_unrecognized_commands", "loop", "headers");
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startServers() throws Exception {
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(), DEFAULT_SET.toArray(String[]::new)));
        postern = SERVERS.add(ServerProcess.posternAsShipped("default-set", Map.of()));
        for (String plugin : DEFAULT_SET) {
            postern.awaitPlugin(plugin);
        }
    }

    @Test
    public void swaksDeliversAfterTheGreetingDelay() throws Exception {
        long start = System.nanoTime();
        String output = DistributionIT.run(0, "swaks", "--server", "127.0.0.1:" + postern.port, "--helo", "client.example",
                "--from", "a@example.org", "--to", "postmaster@localhost", "--header", "Subject: default set");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(output, output.contains("<-  250 2.0.0 Queued as "));
        assertTrue("earlytalker holds the greeting back a second; the session took " + millis + " ms", millis >= 900);
        List<String> delivered = new ArrayList<>();
        for (var file : postern.delivered("data/maildir")) {
            delivered.add(Files.readString(file, StandardCharsets.ISO_8859_1));
        }
        assertTrue(delivered.toString(), delivered.stream().anyMatch(message -> message.contains("Subject: default set\n")));
    }

    /** qpsmtpd 0.94 answers "552 901" (its return code where the text belongs); the headers README names the difference. */
    @Test
    public void aMessageWithoutFromIsRefusedAsByQpsmtpd() throws Exception {
        List<String> lines = List.of("HELO client.example", "MAIL FROM:<a@example.org>", "RCPT TO:<postmaster@localhost>",
                "DATA", "Subject: no sender header\r\n\r\nHello.\r\n.", "QUIT");
        List<String> qpsmtpdReplies = ClientScript.replies(qpsmtpd, lines);
        assertEquals("552 901", qpsmtpdReplies.get(4));
        List<String> posternReplies = ClientScript.replies(postern, lines);
        assertEquals("552 We require a valid From header", posternReplies.get(4));
        assertEquals(qpsmtpdReplies.subList(0, 4), posternReplies.subList(0, 4));
        assertEquals(qpsmtpdReplies.subList(5, 7), posternReplies.subList(5, 7));
    }

    @Test
    public void aForeignRecipientIsRefusedAsByQpsmtpd() throws Exception {
        assertSameReplies(List.of("HELO client.example", "MAIL FROM:<a@example.org>", "RCPT TO:<someone@elsewhere.example>",
                "QUIT"), "550");
    }

    @Test
    public void aHeloWithABareAddressIsRefusedAsByQpsmtpd() throws Exception {
        assertSameReplies(List.of("HELO 192.0.2.7", "QUIT"), "550");
    }

    @Test
    public void theFourthUnrecognizedCommandClosesAsInQpsmtpd() throws Exception {
        List<String> replies = assertSameReplies(List.of("FOO", "BAR", "BAZ", "QUX", "QUIT"), "500");
        assertEquals("closed", replies.get(4));
    }

    @Test
    public void aLoopingMessageIsRefusedAsByQpsmtpd() throws Exception {
        String received = "Received: from relay.example by relay.example; Mon, 1 Jan 2024 00:00:00 +0000\r\n".repeat(100);
        assertSameReplies(List.of("HELO client.example", "MAIL FROM:<a@example.org>", "RCPT TO:<postmaster@localhost>",
                "DATA", received + "From: a@example.org\r\n\r\nHello.\r\n.", "QUIT"), "552");
    }

    @Test
    public void aClientThatTalksFirstIsRefusedAsByQpsmtpd() throws Exception {
        List<String> replies = new ArrayList<>();
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            try (SmtpClient client = new SmtpClient(server.port)) {
                client.send("EHLO early.example\r\n");
                replies.add(client.reply().replaceFirst(" 5\\.\\d+\\.\\d+ ", " "));
                assertTrue("the server closes the connection", client.closedByServerWithin(5000));
            }
        }
        assertEquals(replies.get(0), replies.get(1));
        assertTrue(replies.get(1), replies.get(1).startsWith("550 "));
    }

    /** qpsmtpd-forkserver's -m and Postern's hosts_allow both let one address hold five connections. */
    @Test
    public void theSixthConnectionFromOneAddressIsRefused() throws Exception {
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 5; i++) {
                    held.add(new Socket("127.0.0.1", server.port));
                }
                Thread.sleep(300);
                try (SmtpClient sixth = new SmtpClient(server.port)) {
                    String reply = sixth.reply();
                    assertTrue(server.port + ": " + reply, reply.startsWith("451 "));
                }
            } finally {
                for (Socket socket : held) {
                    socket.close();
                }
            }
            awaitGreetingAfterTheHeldConnections(server);
        }
    }

    /** qpsmtpd counts a connection until its child exits, after earlytalker's wait; later tests need a free slot. */
    private static void awaitGreetingAfterTheHeldConnections(ServerProcess server) throws Exception {
        long deadline = System.currentTimeMillis() + 15_000;
        while (true) {
            try (SmtpClient client = new SmtpClient(server.port)) {
                if (client.reply().startsWith("220 ")) {
                    return;
                }
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("no greeting within 15 s after the held connections closed");
            }
            Thread.sleep(200);
        }
    }

    /** Both servers give the same replies to the lines; the first that is neither 2xx nor 354 starts so. */
    private static List<String> assertSameReplies(List<String> lines, String expectedRefusal) throws Exception {
        // qpsmtpd puts some enhanced status codes after the text, "(#5.7.1)"; ClientScript drops Postern's, before it
        List<String> qpsmtpdReplies = ClientScript.replies(qpsmtpd, lines).stream()
                .map(reply -> reply.replaceFirst(" \\(#\\d\\.\\d{1,3}\\.\\d{1,3}\\)$", "")).toList();
        List<String> posternReplies = ClientScript.replies(postern, lines);
        assertEquals(qpsmtpdReplies, posternReplies);
        String decisive = posternReplies.stream().filter(reply -> !reply.startsWith("2") && !reply.startsWith("354"))
                .findFirst().orElse("none");
        assertTrue(posternReplies.toString(), decisive.startsWith(expectedRefusal));
        return posternReplies;
    }
}
