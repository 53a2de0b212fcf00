package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * queue/exec (qpsmtpd has no such plugin) through the distribution: with Debian's Postfix {@code sendmail} into a
 * throwaway Postfix instance of the test's own ({@code sendmail -C} names its configuration), which delivers into a
 * Maildir; and with a small program of the test's own for the exit statuses and the time limit. Clients are swaks,
 * Python's smtplib and a raw socket.
 */
public class QueueExecIT {
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ThrowawayPostfix postfix;
    private static ServerProcess sendmail;
    private static ServerProcess scripted;
    private static Path program;

    @BeforeClass
    public static void startServers() throws Exception {
        postfix = ThrowawayPostfix.start(Map.of(), "");
        sendmail = SERVERS.add(postern("queue-exec-sendmail",
                "command = /usr/sbin/sendmail -C " + postfix.config + " -i -f %s --"));
        program = deliveryProgram();
        scripted = SERVERS.add(postern("queue-exec-script",
                "command = " + program + " -f %s --\npermanent.codes = 65 67\ntimeout = 2"));
    }

    @AfterClass
    public static void stopPostfix() throws Exception {
        if (postfix != null) {
            postfix.close();
        }
    }

    private static ServerProcess postern(String name, String config) throws Exception {
        return ServerProcess.posternWithPlugins(name, Map.of("org.postern.smtp.plugin.queue.exec.cfg", config),
                List.of("plugin-queue-exec")).awaitPlugin("queue/exec");
    }

    /** Reads the message, then exits as the first recipient asks: tempfail@ 75, refuse@ 65, slow@ sleeps. */
    private static Path deliveryProgram() throws IOException {
        Path folder = Files.createTempDirectory("queue-exec");
        Path script = folder.resolve("deliver");
        Files.writeString(script, String.join("\n",
                "#!/bin/sh",
                "cat > /dev/null",
                "case \"$4\" in",
                "  tempfail@*) echo 'deliver: queue directory full' >&2; exit 75 ;;",
                "  refuse@*) echo 'deliver: message refused' >&2; exit 65 ;;",
                "  slow@*) exec sleep 60 ;;",
                "esac",
                ""));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    /** Sends one message (CRLF line ends, without the final dot) and returns the reply to its end. */
    static String dataReply(ServerProcess server, String sender, List<String> recipients, String message) throws IOException {
        try (SmtpClient client = new SmtpClient(server.port)) {
            client.reply();
            client.command("EHLO client.example");
            assertTrue(client.lastReply(), client.command("MAIL FROM:<" + sender + ">").startsWith("250"));
            for (String recipient : recipients) {
                assertTrue(client.lastReply(), client.command("RCPT TO:<" + recipient + ">").startsWith("250"));
            }
            client.command("DATA");
            client.send(message + ".\r\n");
            return client.reply();
        }
    }

    /** Python's smtplib sends one message with this subject; it must be accepted. */
    static void smtplib(ServerProcess server, String sender, String recipient, String subject) throws Exception {
        String script = String.join("\n",
                "import smtplib, sys",
                "with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30) as smtp:",
                "    smtp.ehlo('python.example')",
                "    message = 'Subject: %s\\r\\n\\r\\nbody\\r\\n' % sys.argv[4]",
                "    refused = smtp.sendmail(sys.argv[2], [sys.argv[3]], message)",
                "    assert not refused, refused",
                "print('sent')");
        String output = DistributionIT.run(0, "python3", "-c", script, Integer.toString(server.port), sender, recipient, subject);
        assertTrue(output, output.contains("sent"));
    }

    @Test
    public void swaksDeliversThroughSendmailIntoPostfix() throws Exception {
        int before = postfix.delivered().size();
        String output = DistributionIT.run(0, "swaks", "--server", "127.0.0.1:" + sendmail.port, "--from", "alice@example.org",
                "--to", "box@localhost,other@localhost", "--header", "Subject: through sendmail", "--body", "Hello Postfix.\n.dot line");
        assertTrue(output, output.contains("<-  250 2.0.0 Queued\n"));
        postfix.awaitDelivered(before + 2);
        String message = postfix.awaitMessage("through sendmail");
        assertTrue(message, message.contains("Subject: through sendmail\n"));
        assertTrue(message, message.contains("Hello Postfix.\n.dot line\n"));
        assertTrue("Postern's Received line went along: " + message, message.contains("by localhost (Postern)"));
        assertTrue(message, message.contains("Return-Path: <alice@example.org>\n"));
        String log = postfix.awaitLog("to=<other@localhost>");
        assertTrue(log, log.contains("from=<alice@example.org>"));
        assertTrue(log, log.contains("to=<box@localhost>"));
        assertEquals("the queue plugin took it, queue/maildir did not", List.of(), sendmail.delivered("data/maildir"));
        assertTrue(sendmail.log(), sendmail.log().contains("queued by /usr/sbin/sendmail (process "));
    }

    @Test
    public void theNullSenderAndARecipientThatLooksLikeAnOptionArriveAsTheyAre() throws Exception {
        String reply = dataReply(sendmail, "", List.of("-oi@localhost"), "Subject: bounce\r\n\r\nreturned\r\n");
        assertEquals("250 2.0.0 Queued", reply);
        String log = postfix.awaitLog("to=<-oi@localhost>");
        assertTrue(log, log.contains("from=<>"));
    }

    @Test
    public void pythonSmtplibDeliversThroughSendmail() throws Exception {
        smtplib(sendmail, "bob@example.org", "box@localhost", "from smtplib");
        String message = postfix.awaitMessage("from smtplib");
        assertTrue(message, message.contains("Return-Path: <bob@example.org>"));
    }

    @Test
    public void exitStatusesMapToTemporaryAndPermanentFailuresWithTheProgramsOutputLogged() throws Exception {
        assertEquals("451 4.3.0 Unable to queue message (75)",
                dataReply(scripted, "a@example.org", List.of("tempfail@localhost"), "Subject: t\r\n\r\nbody\r\n"));
        assertTrue(scripted.log(), scripted.log().contains(program + " failed: 75 (EX_TEMPFAIL); the client will try again"));
        assertTrue(scripted.log(), scripted.log().contains(program + ": deliver: queue directory full"));
        assertEquals("554 5.3.0 Message refused by the delivery program (65)",
                dataReply(scripted, "a@example.org", List.of("refuse@localhost"), "Subject: t\r\n\r\nbody\r\n"));
        assertEquals("250 2.0.0 Queued", dataReply(scripted, "a@example.org", List.of("fine@localhost"), "Subject: t\r\n\r\nbody\r\n"));
    }

    @Test
    public void aProgramThatHangsIsKilledAtTheTimeLimitAndTheClientToldToRetry() throws Exception {
        long started = System.nanoTime();
        String reply = dataReply(scripted, "a@example.org", List.of("slow@localhost"), "Subject: t\r\n\r\nbody\r\n");
        long tookMillis = (System.nanoTime() - started) / 1_000_000;
        assertEquals("451 4.3.0 Unable to queue message (timeout)", reply);
        assertTrue(tookMillis + " ms", tookMillis >= 1900 && tookMillis < 10_000);
        assertTrue(scripted.log(), scripted.log().contains(program + " did not finish within 2 s; killed"));
    }
}
