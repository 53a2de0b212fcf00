package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * queue/qmail-queue side by side with qpsmtpd 0.94's plugin of the same name, each running a qmail-queue of the
 * test's own: Debian packages no qmail-queue (nor netqmail or notqmail; nullmailer-queue speaks another protocol,
 * fastforward and mailfront only call qmail-queue), so a shell script plays it: it writes descriptor 0 and then
 * descriptor 1 to files and exits as the first recipient asks. qpsmtpd's queue/maildir, which its test configuration
 * lists after the plugins, is replaced by a plugin that does nothing, so that a message qmail-queue fails gets
 * qpsmtpd's own answer instead of being queued there.
 */
public class QmailQueueIT {
    /** A queue/maildir that queues nothing, found first in qpsmtpd's plugin folders. */
    private static final String NO_MAILDIR = "sub register { }\n";
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Path qpsmtpdQueue;
    private static Path posternQueue;
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startServers() throws Exception {
        Path shims = worldWritable(Files.createTempDirectory("qmail-queue-shims"));
        worldWritable(Files.createDirectories(shims.resolve("queue")));
        Files.writeString(shims.resolve("queue/maildir"), NO_MAILDIR);
        shims.resolve("queue/maildir").toFile().setReadable(true, false);
        qpsmtpdQueue = fakeQmailQueue();
        posternQueue = fakeQmailQueue();
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"),
                Map.of("plugin_dirs", shims + "\n/usr/share/qpsmtpd/plugins\n"), "queue/qmail-queue " + qpsmtpdQueue));
        postern = SERVERS.add(ServerProcess.posternWithPlugins("qmail-queue",
                Map.of("org.postern.smtp.plugin.queue.qmail_queue.cfg", "qmail.queue = " + posternQueue),
                List.of("plugin-queue-qmail-queue")).awaitPlugin("queue/qmail-queue"));
    }

    /** qpsmtpd runs as its own user: the script and the folder it writes into are open to all. */
    private static Path worldWritable(Path folder) {
        folder.toFile().setReadable(true, false);
        folder.toFile().setWritable(true, false);
        folder.toFile().setExecutable(true, false);
        return folder;
    }

    /**
     * A qmail-queue: descriptor 0 into message.PID, then descriptor 1 into envelope.PID, in its own folder; exits
     * as the first recipient asks (spam@ 31, full@ 53), else 0.
     */
    private static Path fakeQmailQueue() throws IOException {
        Path folder = worldWritable(Files.createTempDirectory("qmail-queue"));
        Path script = folder.resolve("qmail-queue");
        Files.writeString(script, String.join("\n",
                "#!/bin/sh",
                "cd " + folder,
                "cat > message.$$",
                "cat 0<&1 > envelope.$$",
                "case $(tr '\\0' '\\n' < envelope.$$ | sed -n 2p) in",
                "  Tspam@*) echo 'qmail-queue: looks like spam' >&2; exit 31 ;;",
                "  Tfull@*) exit 53 ;;",
                "esac",
                ""));
        script.toFile().setExecutable(true, false);
        script.toFile().setReadable(true, false);
        return script;
    }

    /** What the fake qmail-queue got for the message with this subject: the message, then the envelope. */
    private static List<String> received(Path qmailQueue, String subject) throws IOException {
        try (Stream<Path> files = Files.list(qmailQueue.getParent())) {
            for (Path message : files.filter(file -> file.getFileName().toString().startsWith("message.")).toList()) {
                String text = Files.readString(message, StandardCharsets.ISO_8859_1);
                if (text.contains("Subject: " + subject + "\n")) {
                    String pid = message.getFileName().toString().substring("message.".length());
                    return List.of(text, Files.readString(message.resolveSibling("envelope." + pid), StandardCharsets.ISO_8859_1));
                }
            }
        }
        throw new AssertionError("no message with the subject " + subject + " in " + qmailQueue.getParent());
    }

    private static String send(ServerProcess server, String sender, String recipient, String subject) throws IOException {
        return QueueExecIT.dataReply(server, sender, List.of(recipient, "second@localhost"),
                "Message-Id: <" + subject + "@client.example>\r\nSubject: " + subject + "\r\n\r\nline one\r\n..leading dot\r\n");
    }

    @Test
    public void bothHandQmailQueueTheSameMessageAndEnvelope() throws Exception {
        String reference = send(qpsmtpd, "a@example.org", "b@localhost", "same-qpsmtpd");
        String reply = send(postern, "a@example.org", "b@localhost", "same-postern");
        assertTrue(reference, reference.matches("250 Queued! \\d+ qp \\d+ <same-qpsmtpd@client\\.example>"));
        assertTrue(reply, reply.matches("250 2\\.0\\.0 Queued! \\d+ qp \\d+ <same-postern@client\\.example>"));
        List<String> fromQpsmtpd = received(qpsmtpdQueue, "same-qpsmtpd");
        List<String> fromPostern = received(posternQueue, "same-postern");
        assertEquals("Fa@example.org\0Tb@localhost\0Tsecond@localhost\0\0", fromQpsmtpd.get(1));
        assertEquals(fromQpsmtpd.get(1), fromPostern.get(1));
        // the same body with LF line ends, unstuffed; the header differs only in each server's Received line
        String body = "\n\nline one\n.leading dot\n";
        assertTrue(fromQpsmtpd.get(0), fromQpsmtpd.get(0).endsWith("Subject: same-qpsmtpd" + body));
        assertTrue(fromPostern.get(0), fromPostern.get(0).endsWith("Subject: same-postern" + body));
        assertTrue(fromPostern.get(0), fromPostern.get(0).startsWith("Received: from localhost (HELO client.example) (127.0.0.1)\n"));
        assertTrue(postern.log(), postern.log().contains("queued by " + posternQueue + " (process "));
    }

    @Test
    public void theNullSenderIsAnEmptyFOnBoth() throws Exception {
        assertTrue(send(qpsmtpd, "", "b@localhost", "null-qpsmtpd").startsWith("250 "));
        assertTrue(send(postern, "", "b@localhost", "null-postern").startsWith("250 "));
        assertEquals("F\0Tb@localhost\0Tsecond@localhost\0\0", received(qpsmtpdQueue, "null-qpsmtpd").get(1));
        assertEquals("F\0Tb@localhost\0Tsecond@localhost\0\0", received(posternQueue, "null-postern").get(1));
    }

    @Test
    public void aTemporaryFailureOfQmailQueueIsTheSame451() throws Exception {
        String reference = send(qpsmtpd, "a@example.org", "full@localhost", "full-qpsmtpd");
        assertEquals("451 Unable to queue message (53)", reference);
        assertEquals("451 4.3.0 Unable to queue message (53)", send(postern, "a@example.org", "full@localhost", "full-postern"));
        assertTrue(postern.log(), postern.log().contains(posternQueue + " failed: 53; the client will try again"));
    }

    @Test
    public void aPermanentFailureIs554WhereQpsmtpdSays451() throws Exception {
        assertEquals("451 Unable to queue message (31)", send(qpsmtpd, "a@example.org", "spam@localhost", "spam-qpsmtpd"));
        assertEquals("554 5.3.0 Message refused by the delivery program (31)",
                send(postern, "a@example.org", "spam@localhost", "spam-postern"));
        assertTrue(postern.log(), postern.log().contains(posternQueue + " refused the message for good: 31"));
        assertTrue(postern.log(), postern.log().contains(posternQueue + ": qmail-queue: looks like spam"));
    }

    @Test
    public void swaksAndPythonSmtplibDeliverThroughIt() throws Exception {
        String output = DistributionIT.run(0, "swaks", "--server", "127.0.0.1:" + postern.port, "--from", "c@example.org",
                "--to", "d@localhost", "--header", "Subject: from swaks", "--body", "Hello qmail.");
        assertTrue(output, output.contains("<-  250 2.0.0 Queued! "));
        assertEquals("Fc@example.org\0Td@localhost\0\0", received(posternQueue, "from swaks").get(1));
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            QueueExecIT.smtplib(server, "e@example.org", "f@localhost", "from smtplib");
        }
        assertEquals("Fe@example.org\0Tf@localhost\0\0", received(qpsmtpdQueue, "from smtplib").get(1));
        assertEquals("Fe@example.org\0Tf@localhost\0\0", received(posternQueue, "from smtplib").get(1));
    }
}
