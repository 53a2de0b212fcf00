package org.postern.smtp.itests;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * connection_time answers nothing; what it does is the line it logs when a connection is gone. A client stays a
 * known time, and a line with at least that duration must follow, whether it said QUIT or just left; qpsmtpd's
 * plugin of the same name (at its INFO level) logs the same.
 */
public class ConnectionTimeIT {
    private static final Pattern POSTERN_LINE = Pattern.compile("\\[connection_time post_connection\\]: (\\d+\\.\\d{3}) s\\.");
    private static final Pattern QPSMTPD_LINE = Pattern.compile("\\(post-connection\\) connection_time: (\\d+\\.\\d{3}) s\\.");
    private static final long STAY_MILLIS = 400;
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    /** What a client does before it goes. */
    private interface Session {
        void run(SmtpClient client) throws Exception;
    }

    @BeforeClass
    public static void startBoth() throws Exception {
        // qpsmtpd's plugin logs at INFO (6); ServerProcess keeps qpsmtpd at WARN (4)
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of("loglevel", "6\n"),
                "connection_time"));
        postern = SERVERS.add(ServerProcess.posternWithPlugins("connection-time", Map.of(), List.of("plugin-connection-time")))
                .awaitPlugin("connection_time");
    }

    @Test
    public void logsTheDurationOfASessionThatEndedWithQuit() throws Exception {
        assertStayed(postern, POSTERN_LINE, client -> {
            client.reply();
            Thread.sleep(STAY_MILLIS);
            assertTrue(client.command("QUIT").startsWith("221"));
        });
    }

    @Test
    public void logsTheDurationOfAClientThatJustLeft() throws Exception {
        assertStayed(postern, POSTERN_LINE, client -> {
            client.reply();
            client.command("EHLO client.example");
            Thread.sleep(STAY_MILLIS);
        });
        assertFalse(postern.log().contains("Start time not set"));
    }

    @Test
    public void qpsmtpdLogsTheSame() throws Exception {
        assertStayed(qpsmtpd, QPSMTPD_LINE, client -> {
            client.reply();
            Thread.sleep(STAY_MILLIS);
        });
    }

    /**
     * Runs a session; then a line must follow with a duration of at least the client's stay (and less than the
     * test's patience). Earlier lines, the start-up probe's among them, have shorter ones.
     */
    private static void assertStayed(ServerProcess server, Pattern line, Session session) throws Exception {
        int before = durations(server, line).size();
        try (SmtpClient client = new SmtpClient(server.port)) {
            session.run(client);
        }
        long deadline = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < deadline) {
            List<Double> durations = durations(server, line);
            for (double seconds : durations.subList(before, durations.size())) {
                if (seconds >= STAY_MILLIS / 1000.0) {
                    assertTrue(seconds + " s", seconds < 10);
                    return;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no connection_time line of at least " + STAY_MILLIS + " ms within 10 s:\n" + server.log());
    }

    private static List<Double> durations(ServerProcess server, Pattern line) throws Exception {
        List<Double> durations = new ArrayList<>();
        Matcher matcher = line.matcher(server.log());
        while (matcher.find()) {
            durations.add(Double.parseDouble(matcher.group(1)));
        }
        return durations;
    }
}
