package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * queue/postfix-queue side by side with qpsmtpd 0.94's plugin of the same name, both writing into the cleanup service
 * of a throwaway Postfix instance of the test's own, which delivers into a Maildir. Postfix's header_checks refuse one
 * subject (with FLAG_FILTER only) and its message_size_limit large messages, so that cleanup's refusals come back as
 * replies. Postern talks to cleanup over its Unix socket {@code public/cleanup}, and, in a second instance, over TCP
 * from the config item {@code cleanup_sockets}; qpsmtpd, which runs as its own user, outside the group postdrop that
 * may enter public/, over TCP. qpsmtpd's queue/maildir, listed after the plugins by its test configuration, is
 * replaced by one that does nothing, so that a refused message gets qpsmtpd's own answer.
 */
public class PostfixQueueIT {
    private static final int SIZE_LIMIT = 100_000;
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ThrowawayPostfix postfix;
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;
    private static ServerProcess posternOverTcp;

    @BeforeClass
    public static void startServers() throws Exception {
        Path checks = Files.createTempDirectory("header-checks");
        checks.toFile().setExecutable(true, false);
        Files.writeString(checks.resolve("header_checks"), "/^Subject: .*forbidden/ REJECT no forbidden subjects here\n");
        checks.resolve("header_checks").toFile().setReadable(true, false);
        int cleanupPort = ServerProcess.freePort();
        postfix = ThrowawayPostfix.start(Map.of("header_checks", "regexp:" + checks.resolve("header_checks"),
                        "message_size_limit", Integer.toString(SIZE_LIMIT)),
                "127.0.0.1:" + cleanupPort + " inet n - n - 0 cleanup\n");
        String tcp = "127.0.0.1:" + cleanupPort;

        Path shims = Files.createTempDirectory("postfix-queue-shims");
        Files.createDirectories(shims.resolve("queue"));
        Files.writeString(shims.resolve("queue/maildir"), "sub register { }\n");
        for (Path path : List.of(shims, shims.resolve("queue"), shims.resolve("queue/maildir"))) {
            path.toFile().setReadable(true, false);
            path.toFile().setExecutable(true, false);
        }
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"),
                Map.of("plugin_dirs", shims + "\n/usr/share/qpsmtpd/plugins\n", "cleanup_sockets", tcp + "\n"),
                "queue/postfix-queue FLAG_FILTER"));
        postern = SERVERS.add(ServerProcess.posternWithPlugins("postfix-queue",
                Map.of("org.postern.smtp.plugin.queue.postfix_queue.cfg",
                        "socket = " + postfix.queue.resolve("public/cleanup") + "\nflags = FLAG_FILTER"),
                List.of("plugin-queue-postfix-queue")).awaitPlugin("queue/postfix-queue"));
        posternOverTcp = SERVERS.add(ServerProcess.posternWithPlugins("postfix-queue-tcp",
                Map.of("org.postern.smtp.config.cfg", "cleanup_sockets = " + tcp),
                List.of("plugin-queue-postfix-queue")).awaitPlugin("queue/postfix-queue"));
    }

    @AfterClass
    public static void stopPostfix() throws Exception {
        if (postfix != null) {
            postfix.close();
        }
    }

    private static String send(ServerProcess server, String sender, String subject, String body) throws Exception {
        return QueueExecIT.dataReply(server, sender, List.of("box@localhost", "other@localhost"),
                "Message-Id: <" + subject.replace(' ', '.') + "@client.example>\r\nSubject: " + subject + "\r\n\r\n" + body);
    }

    /** Checks the reply names the queue id and returns it. */
    private static String queueId(String reply, String prefix) {
        Matcher queued = Pattern.compile(Pattern.quote(prefix) + "Queued! <\\S+@client\\.example> \\(Queue-Id: ([0-9A-F]+)\\)").matcher(reply);
        assertTrue(reply, queued.matches());
        return queued.group(1);
    }

    @Test
    public void bothQueueIntoPostfixWhichDeliversForEveryRecipient() throws Exception {
        int before = postfix.delivered().size();
        String qid = queueId(send(qpsmtpd, "a@example.org", "from qpsmtpd", "line one\r\n..dot\r\n"), "250 ");
        String pid = queueId(send(postern, "a@example.org", "from postern", "line one\r\n..dot\r\n" + "x".repeat(3000) + "\r\n"),
                "250 2.0.0 ");
        String tid = queueId(send(posternOverTcp, "", "over tcp", "line one\r\n"), "250 2.0.0 ");
        postfix.awaitDelivered(before + 6);
        String log = postfix.awaitLog(tid + ": removed");
        for (String id : List.of(qid, pid)) {
            assertTrue(log, log.contains(id + ": from=<a@example.org>"));
            assertTrue(log, log.contains(id + ": to=<box@localhost>"));
            assertTrue(log, log.contains(id + ": to=<other@localhost>"));
        }
        assertTrue(log, log.contains(tid + ": from=<>"));
        String fromPostern = postfix.awaitMessage("from postern");
        assertTrue(fromPostern, fromPostern.contains("\nline one\n.dot\n" + "x".repeat(3000) + "\n"));
        assertTrue(fromPostern, fromPostern.contains("by localhost (Postern)"));
        assertEquals("the queue plugin took it, queue/maildir did not", List.of(), postern.delivered("data/maildir"));
        assertTrue(postern.log(), postern.log().contains("queued as " + pid));
    }

    @Test
    public void headerChecksRefuseTheMessageWithFlagFilterAsInQpsmtpd() throws Exception {
        String reference = send(qpsmtpd, "a@example.org", "forbidden words", "body\r\n");
        assertEquals("552 5.7.1 no forbidden subjects here", reference);
        assertEquals(reference, send(postern, "a@example.org", "forbidden words", "body\r\n"));
        // without the flag cleanup does not run header_checks
        queueId(send(posternOverTcp, "a@example.org", "forbidden but unfiltered", "body\r\n"), "250 2.0.0 ");
        postfix.awaitLog("to=<other@localhost>");
    }

    @Test
    public void aMessageOverPostfixsSizeLimitIsRefusedForGood() throws Exception {
        String big = ("y".repeat(998) + "\r\n").repeat(SIZE_LIMIT / 1000 + 10);
        String reference = send(qpsmtpd, "a@example.org", "too big", big);
        String reply = send(postern, "a@example.org", "too big", big);
        // cleanup gives no reason here: each server answers with its own words for the status
        assertEquals("552 message file too big (#5.3.4)", reference);
        assertEquals("552 5.3.4 message file too big", reply);
    }

    @Test
    public void swaksAndPythonSmtplibDeliverThroughIt() throws Exception {
        String output = DistributionIT.run(0, "swaks", "--server", "127.0.0.1:" + postern.port, "--from", "c@example.org",
                "--to", "box@localhost", "--header", "Subject: from swaks", "--body", "Hello cleanup.");
        assertTrue(output, output.contains("<-  250 2.0.0 Queued! "));
        QueueExecIT.smtplib(postern, "e@example.org", "box@localhost", "from smtplib");
        assertTrue(postfix.awaitMessage("from swaks").contains("Hello cleanup."));
        assertTrue(postfix.awaitMessage("from smtplib").contains("Return-Path: <e@example.org>"));
    }

}
