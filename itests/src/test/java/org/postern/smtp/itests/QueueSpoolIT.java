package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.postern.smtp.itests.MessageSession.finalReply;
import static org.postern.smtp.itests.MessageSession.message;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * queue/spool, Postern's own durable queue, with a real Postfix (Debian's package, an instance of the test's own) as
 * its relayhost: a message taken while the relayhost is down is delivered once it is up, a message queued just
 * before a kill -9 is delivered after the restart, and a recipient Postfix refuses gets the sender an RFC 3464
 * bounce from the null sender. Postfix delivers every recipient at localhost and at example.org (the sender's domain
 * in {@link MessageSession}) into one Maildir, and refuses {@code refused@localhost} with 550. Postern retries after
 * 1 s, then every 2 s.
 */
public class QueueSpoolIT {
    private static final String SPOOL_CFG = "org.postern.smtp.plugin.queue.spool.cfg";
    private static final Pattern QUEUED = Pattern.compile("250 2\\.0\\.0 Queued as ([0-9A-Z]+)");
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ThrowawayPostfix postfix;

    @BeforeClass
    public static void startPostfix() throws Exception {
        postfix = ThrowawayPostfix.start(Map.of(
                "myhostname", "smarthost.test",
                "virtual_mailbox_domains", "localhost, example.org",
                "smtpd_recipient_restrictions", "check_recipient_access inline:{"
                        + " { refused@localhost = 550 5.1.1 refused@localhost: no such user } },"
                        + " permit_mynetworks, reject"), "");
        awaitPostfix(true);
    }

    @AfterClass
    public static void stopPostfix() throws Exception {
        if (postfix != null) {
            postfix.close();
        }
    }

    private static ServerProcess posternQueueing(String name) throws Exception {
        return SERVERS.add(ServerProcess.posternWithPlugins("spool-" + name,
                Map.of(SPOOL_CFG, "relayhost = 127.0.0.1:" + postfix.smtpPort + "\nretry.initial = 1\nretry.max = 2"),
                List.of("plugin-queue-spool")).awaitPlugin("queue/spool"));
    }

    /** Postfix stopped or started again, waited for until its port refuses connections or greets. */
    private static void postfixRunning(boolean running) throws Exception {
        DistributionIT.run(0, "postfix", "-c", postfix.config.toString(), running ? "start" : "stop");
        awaitPostfix(running);
    }

    private static void awaitPostfix(boolean up) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (true) {
            boolean greets;
            try (SmtpClient client = new SmtpClient(postfix.smtpPort)) {
                greets = client.reply().startsWith("220");
            } catch (IOException refused) {
                greets = false;
            }
            if (greets == up) {
                return;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("Postfix " + (up ? "not greeting" : "still listening") + " within 20 s:\n" + postfix.log());
            }
            Thread.sleep(50);
        }
    }

    /** The queue id in Postern's reply to the final dot. */
    private static String queueId(String reply) {
        Matcher queued = QUEUED.matcher(reply);
        assertTrue(reply, queued.matches());
        return queued.group(1);
    }

    /** The messages Postfix delivered that contain this text, waited for until there are {@code copies}. */
    private static List<String> deliveredWith(String text, int copies) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            List<String> found = new ArrayList<>();
            for (Path file : postfix.delivered()) {
                String message = Files.readString(file);
                if (message.contains(text)) {
                    found.add(message);
                }
            }
            if (found.size() >= copies) {
                return found;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError(found.size() + " of " + copies + " messages with '" + text + "' delivered within 30 s:\n" + postfix.log());
            }
            Thread.sleep(50);
        }
    }


    private static List<String> queueFiles(ServerProcess server) throws IOException {
        try (Stream<Path> files = Files.list(server.base.resolve("data/queue/active"))) {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        }
    }

    private static void awaitEmptyQueue(ServerProcess server) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (!queueFiles(server).isEmpty()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("still queued after 20 s: " + queueFiles(server) + "\n" + server.log());
            }
            Thread.sleep(50);
        }
    }

    @Test
    public void aMessageTakenWhileTheRelayhostIsDownIsDeliveredOnceItIsUp() throws Exception {
        ServerProcess postern = posternQueueing("relayhost-down");
        String subject = "waited-" + UUID.randomUUID();
        String id;
        postfixRunning(false);
        try {
            id = queueId(finalReply(postern.port, List.of("one@localhost", "two@localhost"), message(subject, "Hello,\r\n..a dot\r\n")));
            postern.awaitLogged("queue id " + id + ": <one@localhost> deferred: 451 4.4.1 Cannot connect to 127.0.0.1:" + postfix.smtpPort);
            assertEquals(List.of(id + ".eml", id + ".env"), queueFiles(postern));
            assertTrue(QUEUE_DEPTH + " 1.0", metrics(postern).contains(QUEUE_DEPTH + " 1.0\n"));
        } finally {
            postfixRunning(true);
        }
        List<String> copies = deliveredWith("Subject: " + subject, 2);
        assertTrue(copies.toString(), copies.stream().anyMatch(copy -> copy.contains("X-Original-To: one@localhost\n"))
                && copies.stream().anyMatch(copy -> copy.contains("X-Original-To: two@localhost\n")));
        assertTrue(copies.get(0), copies.get(0).contains("\n.a dot\n"));
        postern.awaitLogged("queue id " + id + ": <two@localhost> delivered by 127.0.0.1: 250 2.0.0 Ok: queued as ");
        awaitEmptyQueue(postern);
        assertTrue(QUEUE_DEPTH + " 0.0", metrics(postern).contains(QUEUE_DEPTH + " 0.0\n"));
    }

    /** The queue's depth as the metrics bundle (in the distribution's bundle/) shows it. */
    private static final String QUEUE_DEPTH = "postern_queue_messages{queue=\"queue/spool\"}";

    private static String metrics(ServerProcess server) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    public void aMessageQueuedJustBeforeAKillIsDeliveredAfterTheRestart() throws Exception {
        ServerProcess postern = posternQueueing("killed");
        String subject = "survived-" + UUID.randomUUID();
        String id;
        ServerProcess restarted;
        postfixRunning(false);
        try {
            id = queueId(finalReply(postern.port, List.of("one@localhost"), message(subject, "x\r\n")));
            postern.kill();
            assertEquals(List.of(id + ".eml", id + ".env"), queueFiles(postern));
            restarted = SERVERS.add(postern.restarted()).awaitPlugin("queue/spool");
        } finally {
            postfixRunning(true);
        }
        deliveredWith("Subject: " + subject, 1);
        restarted.awaitLogged("1 message in the queue");
        awaitEmptyQueue(restarted);
    }

    @Test
    public void aRecipientTheRelayhostRefusesGetsTheSenderADeliveryStatusNotification() throws Exception {
        ServerProcess postern = posternQueueing("bounce");
        String subject = "half-refused-" + UUID.randomUUID();
        String id = queueId(finalReply(postern.port, List.of("fine@localhost", "refused@localhost"), message(subject, "x\r\n")));
        // The bounce quotes the message's header, Subject included, and may be delivered first.
        List<String> copyAndBounce = deliveredWith("Subject: " + subject, 2);
        assertTrue(copyAndBounce.toString(), copyAndBounce.stream()
                .anyMatch(copy -> copy.contains("X-Original-To: fine@localhost\n") && !copy.startsWith("Return-Path: <>\n")));

        String bounce = deliveredWith("X-Postern-Queue-ID: " + id, 1).get(0);
        assertTrue(bounce, bounce.startsWith("Return-Path: <>\n"));
        assertTrue(bounce, bounce.contains("X-Original-To: a@example.org\n"));
        assertTrue(bounce, bounce.contains("\nFrom: Mail Delivery System <MAILER-DAEMON@localhost>\n"));
        assertTrue(bounce, bounce.contains("\nAuto-Submitted: auto-replied\n"));
        assertTrue(bounce, bounce.contains("\nContent-Type: multipart/report; report-type=delivery-status;\n"));
        assertTrue(bounce, bounce.contains("\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; localhost\nX-Postern-Queue-ID: " + id
                + "\nArrival-Date: "));
        assertTrue(bounce, bounce.contains("\n\nFinal-Recipient: rfc822; refused@localhost\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; 127.0.0.1\n"
                + "Diagnostic-Code: smtp; 550 5.1.1 <refused@localhost>: Recipient address rejected: refused@localhost: no such user\n"));
        assertTrue(bounce, !bounce.contains("Final-Recipient: rfc822; fine@localhost"));
        assertTrue(bounce, bounce.matches("(?s).*\nContent-Type: text/rfc822-headers\n\n.*\nSubject: " + subject + "\n.*"));
        awaitEmptyQueue(postern);
    }
}
