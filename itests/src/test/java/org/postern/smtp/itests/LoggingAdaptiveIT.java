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
 * logging/adaptive in qpsmtpd and in Postern, side by side, with {@code accept LOGINFO reject LOGINFO} and badrcptto
 * to deny: a session whose recipient was refused gets its lines written plainly, one whose recipient was accepted
 * gets them marked with the prefix. Where they differ: qpsmtpd also writes the accepted session's lines plainly, as
 * they come; Postern writes them only marked (see the README).
 */
public class LoggingAdaptiveIT {
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    /** The session (Postern) or process (qpsmtpd), then the origin of the line. */
    private static final Pattern DENIED = Pattern.compile("(?m)[\\w.]+ badrcptto plugin: fail: rcpt match$");
    private static final Pattern ACCEPTED_MARKED = Pattern.compile("(?m)[\\w.]+ ` badrcptto plugin: pass$");
    private static final Pattern ACCEPTED_PLAIN = Pattern.compile("(?m)[\\w.]+ badrcptto plugin: pass$");
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void start() throws Exception {
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(
                "badrcptto", "closed@localhost\n", "logging", "logging/adaptive accept LOGINFO reject LOGINFO\n"), "badrcptto"));
        postern = SERVERS.add(ServerProcess.posternWithPlugins("logging-adaptive", Map.of(
                "org.postern.smtp.config.cfg", "rcpthosts = localhost\nbadrcptto = closed@localhost",
                "org.postern.smtp.plugin.logging.adaptive.cfg", "accept = LOGINFO\nreject = LOGINFO"),
                List.of("plugin-logging-adaptive", "plugin-badrcptto")))
                .awaitPlugin("logging/adaptive").awaitPlugin("badrcptto");
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            assertTrue(rcpt(server, "<friend@localhost>").startsWith("250"));
            assertTrue(rcpt(server, "<closed@localhost>").startsWith("550"));
        }
    }

    @Test
    public void theDeniedSessionsLinesAreWrittenPlainly() throws Exception {
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            awaitLine(server, DENIED);
        }
    }

    @Test
    public void theAcceptedSessionsLinesAreWrittenWithThePrefix() throws Exception {
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            awaitLine(server, ACCEPTED_MARKED);
        }
    }

    @Test
    public void onlyQpsmtpdWritesTheAcceptedSessionsLinesPlainlyToo() throws Exception {
        awaitLine(qpsmtpd, ACCEPTED_PLAIN);
        // one logging thread, in order: the accepted session's lines were handled before the denied one's
        awaitLine(postern, DENIED);
        assertFalse(postern.log(), ACCEPTED_PLAIN.matcher(postern.log()).find());
    }

    private static String rcpt(ServerProcess server, String recipient) throws Exception {
        return ClientScript.replies(server, List.of("HELO client.example", "MAIL FROM:<sender@example.org>",
                "RCPT TO:" + recipient, "QUIT")).get(2);
    }

    private static void awaitLine(ServerProcess server, Pattern line) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!line.matcher(server.log()).find()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("no line " + line + " within 10 s:\n" + server.log());
            }
            Thread.sleep(50);
        }
    }
}
