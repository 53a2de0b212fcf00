package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * The launcher's log as an administrator reads it: one line per mail transaction on logger
 * {@code postern.transactions}, and the log level changed live by editing {@code etc/logback.xml}.
 */
public class TransactionLogIT {
    private static final Pattern TRANSACTION_LINE = Pattern.compile(" INFO transactions - session (\\S+): id=(\\S+)"
            + " listener=default client=127\\.0\\.0\\.1 from=(\\S+) to=(\\S+) recipients=(\\d+) size=(\\d+) result=(\\w+)"
            + " reply=\"([^\"]*)\" time=\\d+ms");
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();

    @Test
    public void eachTransactionEndsInOneLineWithItsOutcome() throws Exception {
        ServerProcess postern = SERVERS.add(ServerProcess.postern("transaction-log", "", Map.of("max.message.size", "2000")));
        try (SmtpClient client = new SmtpClient(postern.port)) {
            client.reply();
            client.command("EHLO client.example");
            client.command("MAIL FROM:<sender@example.org>");
            client.command("RCPT TO:<one@localhost>");
            client.command("RCPT TO:<two@localhost>");
            client.command("DATA");
            assertTrue(client.lastReply(), client.command("Subject: fine\r\n\r\nbody\r\n.").startsWith("250"));
            client.command("MAIL FROM:<>");
            client.command("RCPT TO:<one@localhost>");
            client.command("RSET");
            client.command("MAIL FROM:<big@example.org>");
            client.command("RCPT TO:<one@localhost>");
            client.command("DATA");
            assertTrue(client.lastReply(), client.command("Subject: big\r\n\r\n" + "x".repeat(3000) + "\r\n.").startsWith("552"));
            client.command("QUIT");
        }
        List<Matcher> lines = awaitTransactionLines(postern, 3);
        Matcher queued = lines.get(0);
        String session = queued.group(1);
        assertEquals(session + ".1", queued.group(2));
        assertEquals("<sender@example.org>", queued.group(3));
        assertEquals("<one@localhost>,<two@localhost>", queued.group(4));
        assertEquals("2", queued.group(5));
        assertEquals("queued", queued.group(7));
        assertTrue(queued.group(8), queued.group(8).startsWith("250 2.0.0 Queued as "));
        Matcher abandoned = lines.get(1);
        assertEquals(session + ".2", abandoned.group(2));
        assertEquals("<>", abandoned.group(3));
        assertEquals("abandoned", abandoned.group(7));
        assertEquals("", abandoned.group(8));
        Matcher refused = lines.get(2);
        assertEquals(session + ".3", refused.group(2));
        assertEquals("refused", refused.group(7));
        assertTrue(refused.group(8), refused.group(8).startsWith("552 5.3.4"));
        assertTrue(Integer.parseInt(refused.group(6)) > 3000);
    }

    @Test
    public void theLogLevelChangesWhileTheServerRunsWhenLogbackXmlIsEdited() throws Exception {
        ServerProcess postern = SERVERS.add(ServerProcess.postern("log-level"));
        Path config = postern.base.resolve("etc/logback.xml");
        // the shipped file is re-read every 10 s; the test's copy every second, so that it need not wait long
        Files.writeString(config, Files.readString(config).replace("scanPeriod=\"10 seconds\"", "scanPeriod=\"1 seconds\""));
        postern = SERVERS.add(postern.restarted());
        greetAndQuit(postern);
        Thread.sleep(1_500);
        assertFalse("no DEBUG line at the shipped level:\n" + postern.log(), postern.log().contains(" DEBUG "));

        Files.writeString(config, Files.readString(config).replace("<root level=\"${postern.log.level:-info}\">", "<root level=\"debug\">"));
        long deadline = System.currentTimeMillis() + 15_000;
        while (!postern.log().contains(" DEBUG SmtpSession - session ")) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("no DEBUG line from a session after the edit:\n" + postern.log());
            }
            greetAndQuit(postern);
            Thread.sleep(500);
        }
    }

    private static void greetAndQuit(ServerProcess postern) throws Exception {
        try (SmtpClient client = new SmtpClient(postern.port)) {
            client.reply();
            client.command("QUIT");
        }
    }

    private static List<Matcher> awaitTransactionLines(ServerProcess postern, int count) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (true) {
            List<Matcher> lines = postern.log().lines().map(TRANSACTION_LINE::matcher).filter(Matcher::find).toList();
            if (lines.size() >= count) {
                assertEquals(postern.log(), count, lines.size());
                return lines;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError(count + " transaction lines expected:\n" + postern.log());
            }
            Thread.sleep(100);
        }
    }
}
