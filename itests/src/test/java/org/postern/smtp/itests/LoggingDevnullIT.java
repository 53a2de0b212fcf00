package org.postern.smtp.itests;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * logging/devnull in qpsmtpd and in Postern, side by side: a session's lines no longer reach the server log (qpsmtpd
 * at loglevel 7 writes the refused recipient there without it). In Postern, logging/file shows that the lines were
 * logged: the instance ordered before logging/devnull, as by default, gets them; one ordered after it gets nothing.
 */
public class LoggingDevnullIT {
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Path logs;
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void start() throws Exception {
        logs = Files.createTempDirectory("logging-devnull");
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of("loglevel", "7\n",
                "logging", "logging/devnull\n")));
        postern = SERVERS.add(ServerProcess.posternWithPlugins("logging-devnull", Map.of(
                "org.postern.smtp.plugin.logging.file-before.cfg", "path = " + logs.resolve("before.log") + "\nloglevel = LOGINFO",
                "org.postern.smtp.plugin.logging.file-after.cfg",
                "path = " + logs.resolve("after.log") + "\nloglevel = LOGINFO\npostern.hook.order = 2000"),
                List.of("plugin-logging-devnull", "plugin-logging-file")));
        postern.awaitPlugin("logging/devnull").awaitPlugin("logging/file:before").awaitPlugin("logging/file:after");
    }

    @Test
    public void qpsmtpdsServerLogGetsNoLine() throws Exception {
        assertTrue(refuse(qpsmtpd, "first@elsewhere.example").startsWith("550"));
        // qpsmtpd logs the command before it answers it
        assertFalse(qpsmtpd.log(), qpsmtpd.log().contains("first@elsewhere.example"));
    }

    @Test
    public void posternsServerLogAndLaterLoggingPluginsGetNoLine() throws Exception {
        assertTrue(refuse(postern, "first@elsewhere.example").startsWith("550"));
        assertTrue(refuse(postern, "second@elsewhere.example").startsWith("550"));
        // one logging thread, lines in order: once the second session's line is written, the first's went all the way
        awaitLine(logs.resolve("before.log"), "second@elsewhere.example");
        assertTrue(Files.readString(logs.resolve("before.log")).contains("first@elsewhere.example"));
        assertFalse(Files.exists(logs.resolve("after.log")) && Files.readString(logs.resolve("after.log")).contains("@"));
        assertFalse(postern.log(), postern.log().contains("first@elsewhere.example"));
    }

    private static String refuse(ServerProcess server, String recipient) throws Exception {
        return ClientScript.replies(server, List.of("HELO client.example", "MAIL FROM:<sender@example.org>",
                "RCPT TO:<" + recipient + ">", "QUIT")).get(2);
    }

    private static void awaitLine(Path file, String text) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!(Files.exists(file) && Files.readString(file).contains(text))) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("no line with " + text + " in " + file + " within 10 s");
            }
            Thread.sleep(50);
        }
    }
}
