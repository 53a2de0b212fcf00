package org.postern.smtp.itests;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
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
 * logging/connection_id leads each line in the server log with the id of its connection, the id the server also
 * writes into the Received header. Two messages are delivered, each in its own session; each session's rcpt_ok
 * line must appear in qpsmtpd's format led by the id in that message's Received header. qpsmtpd 0.94's plugin of
 * this name refuses to load ("The connection ID feature is currently unsupported"), so there is no side-by-side
 * run.
 */
public class LoggingConnectionIdIT {
    private static final Pattern RECEIVED_ID = Pattern.compile("with E?SMTP\\S* id (\\S+);");
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess postern;

    @BeforeClass
    public static void start() throws Exception {
        postern = SERVERS.add(ServerProcess.posternWithPlugins("logging-connection-id",
                Map.of("org.postern.smtp.plugin.logging.connection_id.cfg", "loglevel = LOGINFO"),
                List.of("plugin-logging-connection-id"))).awaitPlugin("logging/connection_id");
    }

    @Test
    public void eachSessionsLinesAreLedByItsId() throws Exception {
        String first = deliverAndReadId("first");
        String second = deliverAndReadId("second");
        assertNotEquals(first, second);
        for (String id : List.of(first, second)) {
            awaitLine(id + " rcpt_ok plugin: pass: localhost in rcpthosts\n");
        }
        assertFalse("the server's own format of the line", postern.log().contains("[rcpt_ok rcpt]: pass: localhost in rcpthosts"));
    }

    /** Delivers a message to a local recipient and returns the session id from its Received header. */
    private static String deliverAndReadId(String subject) throws Exception {
        try (SmtpClient client = new SmtpClient(postern.port)) {
            client.reply();
            client.command("EHLO client.example");
            client.command("MAIL FROM:<sender@example.org>");
            assertTrue(client.lastReply(), client.command("RCPT TO:<someone@localhost>").startsWith("250"));
            assertTrue(client.lastReply(), client.command("DATA").startsWith("354"));
            assertTrue(client.lastReply(), client.command("Subject: " + subject + "\r\n\r\nbody\r\n.").startsWith("250"));
            client.command("QUIT");
        }
        for (Path message : postern.delivered("data/maildir")) {
            String text = Files.readString(message);
            if (text.contains("Subject: " + subject + "\r\n") || text.contains("Subject: " + subject + "\n")) {
                Matcher id = RECEIVED_ID.matcher(text);
                assertTrue(text, id.find());
                return id.group(1);
            }
        }
        throw new AssertionError("message '" + subject + "' not delivered: " + postern.delivered("data/maildir"));
    }

    private static void awaitLine(String line) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!postern.log().contains(line)) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("no line '" + line.strip() + "' within 10 s:\n" + postern.log());
            }
            Thread.sleep(50);
        }
    }
}
