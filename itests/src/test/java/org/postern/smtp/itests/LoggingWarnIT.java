package org.postern.smtp.itests;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * logging/warn writes log lines in qpsmtpd's format, {@code <pid> (<hook>) <plugin>: <text>}: qpsmtpd's plugin to
 * its standard error, Postern's to the server log, both in the file the test reads. A session with a local
 * recipient makes rcpt_ok log its INFO line in each server, which both write the same way with {@code loglevel
 * LOGINFO}. Postern's plugin takes the line, so the server does not write it a second time in its own format.
 */
public class LoggingWarnIT {
    private static final Pattern RCPT_OK_LINE = Pattern.compile("\\b\\d+ \\(rcpt\\) rcpt_ok: pass: localhost in rcpthosts\\n");
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startBoth() throws Exception {
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of("logging", "logging/warn LOGINFO\n")));
        postern = SERVERS.add(ServerProcess.posternWithPlugins("logging-warn",
                Map.of("org.postern.smtp.plugin.logging.warn.cfg", "loglevel = LOGINFO"), List.of("plugin-logging-warn")))
                .awaitPlugin("logging/warn");
    }

    @Test
    public void qpsmtpdWritesAPluginsLineWithPidHookAndPlugin() throws Exception {
        awaitLine(qpsmtpd);
    }

    @Test
    public void posternWritesItTheSameWayAndOnlyThatWay() throws Exception {
        awaitLine(postern);
        assertFalse("the server's own format of the line", postern.log().contains("[rcpt_ok rcpt]: pass: localhost in rcpthosts"));
    }

    /** Sends a message to a local recipient; then rcpt_ok's line must appear in qpsmtpd's format within 10 s. */
    private static void awaitLine(ServerProcess server) throws Exception {
        try (SmtpClient client = new SmtpClient(server.port)) {
            client.reply();
            client.command("EHLO client.example");
            client.command("MAIL FROM:<sender@example.org>");
            assertTrue(client.lastReply(), client.command("RCPT TO:<someone@localhost>").startsWith("250"));
            client.command("QUIT");
        }
        long deadline = System.currentTimeMillis() + 10_000;
        while (!RCPT_OK_LINE.matcher(server.log()).find()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("no line matching " + RCPT_OK_LINE + " within 10 s:\n" + server.log());
            }
            Thread.sleep(50);
        }
    }
}
