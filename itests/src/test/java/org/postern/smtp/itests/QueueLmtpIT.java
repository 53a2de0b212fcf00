package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;
import static org.postern.smtp.itests.MessageSession.finalReply;
import static org.postern.smtp.itests.MessageSession.message;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * queue/lmtp delivering into a real Dovecot (Debian's dovecot-lmtpd, an instance of the test's own) over TCP and
 * over a Unix socket. Dovecot knows alice, bob and full@example.org (full has a 1 KB quota, so it refuses a larger
 * message after the final dot, while the others take it); qpsmtpd has no LMTP plugin to compare with.
 */
public class QueueLmtpIT {
    private static final String LMTP_CFG = "org.postern.smtp.plugin.queue.lmtp.cfg";
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Dovecot dovecot;
    private static ServerProcess overTcp;
    private static ServerProcess overSocket;

    @BeforeClass
    public static void startServers() throws Exception {
        assumeTrue("Dovecot runs as root", Dovecot.available());
        dovecot = Dovecot.start(List.of("alice@example.org", "bob@example.org", "full@example.org"));
        overTcp = SERVERS.add(posternDelivering("tcp", "127.0.0.1:" + dovecot.lmtpPort));
        overSocket = SERVERS.add(posternDelivering("socket", dovecot.lmtpSocket.toString()));
    }

    @AfterClass
    public static void stopDovecot() throws Exception {
        if (dovecot != null) {
            dovecot.close();
        }
    }

    private static ServerProcess posternDelivering(String name, String server) throws Exception {
        return ServerProcess.posternWithPlugins("lmtp-" + name, Map.of(LMTP_CFG, "lmtp.server = " + server,
                "org.postern.smtp.config.cfg", "rcpthosts = localhost, example.org"), List.of("smtp-client", "plugin-queue-lmtp"))
                .awaitPlugin("queue/lmtp");
    }

    /** The messages in a user's Maildir with this subject. */
    private static List<String> withSubject(String user, String subject) throws IOException {
        List<String> found = new ArrayList<>();
        for (Path file : dovecot.delivered(user)) {
            String text = Files.readString(file);
            if (text.contains("Subject: " + subject)) {
                found.add(text);
            }
        }
        return found;
    }

    @Test
    public void healthShowsDovecotsLmtpGreetingOverTcpAndTheSocket() throws Exception {
        for (ServerProcess server : List.of(overTcp, overSocket)) {
            String peer = "LMTP server " + (server == overTcp ? "127.0.0.1:" + dovecot.lmtpPort : dovecot.lmtpSocket.toString());
            Health.Page page = Health.await(server, peer, answer -> answer.body().contains("Postern peer: " + peer));
            assertEquals(page.body(), 1, page.lines("OK Postern peer: " + peer + ": " + peer + " answered: 220 "));
        }
    }

    @Test
    public void eachRecipientGetsTheMessageOverTcp() throws Exception {
        String subject = "tcp-" + UUID.randomUUID();
        assertEquals("250 2.0.0 Queued", finalReply(overTcp.port, List.of("alice@example.org", "bob@example.org"),
                message(subject, "Hello,\r\n..a line with a dot\r\n")));
        for (String user : List.of("alice@example.org", "bob@example.org")) {
            List<String> delivered = withSubject(user, subject);
            assertEquals(user + ":\n" + dovecot.log(), 1, delivered.size());
            assertTrue(delivered.get(0), delivered.get(0).contains("\n.a line with a dot\n"));
            assertTrue(delivered.get(0), delivered.get(0).contains(" with LMTP\n"));
        }
    }

    @Test
    public void overAUnixSocket() throws Exception {
        String subject = "socket-" + UUID.randomUUID();
        assertEquals("250 2.0.0 Queued", finalReply(overSocket.port, List.of("alice@example.org"), message(subject, "Hello\r\n")));
        assertEquals(1, withSubject("alice@example.org", subject).size());
    }

    @Test
    public void anUnknownRecipientKeepsTheMessageFromEveryone() throws Exception {
        String subject = "unknown-" + UUID.randomUUID();
        String reply = finalReply(overTcp.port, List.of("alice@example.org", "nobody@example.org"), message(subject, "Hello\r\n"));
        assertTrue(reply, reply.startsWith("550 5.1.1 Delivery failed (<nobody@example.org>: 550 5.1.1 <nobody@example.org> User doesn't exist"));
        assertEquals(List.of(), withSubject("alice@example.org", subject));
    }

    @Test
    public void aRecipientOverQuotaAfterTheFinalDotGetsTheMessageRefused() throws Exception {
        String subject = "quota-" + UUID.randomUUID();
        String reply = finalReply(overSocket.port, List.of("bob@example.org", "full@example.org"),
                message(subject, "a line of forty characters, more or less\r\n".repeat(100)));
        assertTrue(reply, reply.startsWith("552 5.2.2 Delivery failed (<full@example.org>: 552 5.2.2 <full@example.org> Quota exceeded"));
        // bob has it: the per-recipient replies come after the final dot, when one answer must do for both
        assertEquals(1, withSubject("bob@example.org", subject).size());
        assertEquals(List.of(), withSubject("full@example.org", subject));
        assertTrue(overSocket.log(), overSocket.log().contains("delivered only to bob@example.org, who still appear in its bounce"));
    }

    @Test
    public void anLmtpServerThatIsDownGives451() throws Exception {
        ServerProcess down = SERVERS.add(posternDelivering("down", dovecot.base.resolve("no-such.sock").toString()));
        String reply = finalReply(down.port, List.of("alice@example.org"), message("down", "Hello\r\n"));
        assertTrue(reply, reply.startsWith("451 4.4."));
        down.close();
    }
}
