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
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * logging/transaction_id leads each line in the server log with the id of its mail transaction: the session's id
 * (the one in the Received header) and the transaction's number in the session. One session has two transactions,
 * the first ended by RSET, the second delivered; each transaction's rcpt_ok line must carry its own number. qpsmtpd
 * 0.94's plugin of this name refuses to load ("The transaction ID feature is currently unsupported"), so there is
 * no side-by-side run.
 */
public class LoggingTransactionIdIT {
    private static final Pattern RECEIVED_ID = Pattern.compile("with E?SMTP\\S* id (\\S+);");
    private static final String RCPT_OK_LINE = " rcpt_ok plugin: pass: localhost in rcpthosts\n";
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess postern;

    @BeforeClass
    public static void start() throws Exception {
        postern = SERVERS.add(ServerProcess.posternWithPlugins("logging-transaction-id",
                Map.of("org.postern.smtp.plugin.logging.transaction_id.cfg", "loglevel = LOGINFO"),
                List.of("plugin-logging-transaction-id"))).awaitPlugin("logging/transaction_id");
    }

    @Test
    public void eachTransactionsLinesCarryItsNumberInTheSession() throws Exception {
        try (SmtpClient client = new SmtpClient(postern.port)) {
            client.reply();
            client.command("EHLO client.example");
            client.command("MAIL FROM:<sender@example.org>");
            assertTrue(client.lastReply(), client.command("RCPT TO:<someone@localhost>").startsWith("250"));
            assertTrue(client.lastReply(), client.command("RSET").startsWith("250"));
            client.command("MAIL FROM:<sender@example.org>");
            assertTrue(client.lastReply(), client.command("RCPT TO:<someone@localhost>").startsWith("250"));
            assertTrue(client.lastReply(), client.command("DATA").startsWith("354"));
            assertTrue(client.lastReply(), client.command("Subject: second\r\n\r\nbody\r\n.").startsWith("250"));
            client.command("QUIT");
        }
        List<Path> delivered = postern.delivered("data/maildir");
        assertEquals(delivered.toString(), 1, delivered.size());
        Matcher received = RECEIVED_ID.matcher(Files.readString(delivered.get(0)));
        assertTrue(received.find());
        String session = received.group(1);

        // one logging thread writes the lines in order: once the queued line is there, the rcpt_ok lines are too
        awaitLine(session + ".2 id=" + session + ".2 listener=default client=127.0.0.1 from=<sender@example.org>");
        String log = postern.log();
        assertTrue(log, log.contains(session + ".1" + RCPT_OK_LINE));
        assertTrue(log, log.contains(session + ".2" + RCPT_OK_LINE));
        assertFalse("the server's own format of the line", log.contains("[rcpt_ok rcpt]: pass: localhost in rcpthosts"));
    }

    private static void awaitLine(String line) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!postern.log().contains(line)) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("no line '" + line + "' within 10 s:\n" + postern.log());
            }
            Thread.sleep(50);
        }
    }
}
