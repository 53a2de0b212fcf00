package org.postern.smtp.plugin.connectiontime.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.PreConnectionContext;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class ConnectionTimeTest {
    /** One connection, as pre_connection sees it and the later hooks too. */
    private static final class Connection extends TestContext implements PreConnectionContext {
        @Override
        public int connectionsFromRemoteIp() {
            return 1;
        }

        @Override
        public int connections() {
            return 1;
        }
    }

    private final Connection connection = new Connection();
    private final AtomicLong nanos = new AtomicLong(TimeUnit.SECONDS.toNanos(1000));

    private ConnectionTime plugin(String loglevel) {
        return new ConnectionTime(TestConfig.of(ConnectionTime.Config.class, Map.of("loglevel", loglevel)), nanos::get);
    }

    /** The lines logged after the "started at" one. */
    private List<String> durationLines() {
        return connection.logged().stream().filter(line -> !line.contains("started at")).toList();
    }

    @Test
    void logsTheDurationFromPreConnectionToPostConnection() {
        ConnectionTime plugin = plugin("");
        assertEquals(ReturnCode.DECLINED, plugin.onPreConnection(connection).code());
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(1500));
        assertEquals(ReturnCode.DECLINED, plugin.onConnect(connection).code());
        nanos.addAndGet(TimeUnit.MICROSECONDS.toNanos(1234_567));
        assertEquals(ReturnCode.DECLINED, plugin.onPostConnection(connection).code());
        assertEquals(List.of("INFO 2.735 s."), durationLines());
        assertTrue(connection.logged().get(0).startsWith("DEBUG started at "), connection.logged().toString());
        assertEquals(1, connection.logged().stream().filter(line -> line.contains("started at")).count(),
                "connect does not start the clock again");
    }

    @Test
    void startsAtConnectWhenPreConnectionDidNotRun() {
        ConnectionTime plugin = plugin("");
        plugin.onConnect(connection);
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(42));
        plugin.onPostConnection(connection);
        assertEquals(List.of("INFO 0.042 s."), durationLines());
    }

    @Test
    void complainsWhenTheConnectionNeverStarted() {
        plugin("").onPostConnection(connection);
        assertEquals(List.of("ERROR Start time not set?!"), connection.logged());
    }

    @Test
    void eachConnectionHasItsOwnClock() {
        ConnectionTime plugin = plugin("");
        plugin.onPreConnection(connection);
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(3));
        Connection later = new Connection();
        plugin.onPreConnection(later);
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(1));
        plugin.onPostConnection(later);
        plugin.onPostConnection(connection);
        assertEquals(List.of("INFO 1.000 s."), later.logged().stream().filter(line -> line.startsWith("INFO")).toList());
        assertEquals(List.of("INFO 4.000 s."), durationLines());
    }

    @Test
    void loglevelSetsOrMovesTheLevelOfEachLine() {
        Map<String, List<String>> expected = Map.of(
                "5", List.of("NOTICE started at", "NOTICE 0.000 s."),
                "LOGNOTICE", List.of("NOTICE started at", "NOTICE 0.000 s."),
                "warn", List.of("WARN started at", "WARN 0.000 s."),
                "-1", List.of("INFO started at", "NOTICE 0.000 s."),
                "+1", List.of("DEBUG started at", "DEBUG 0.000 s."),
                "-9", List.of("EMERG started at", "EMERG 0.000 s."),
                "nonsense", List.of("DEBUG started at", "INFO 0.000 s."));
        expected.forEach((loglevel, lines) -> {
            Connection fresh = new Connection();
            ConnectionTime plugin = plugin(loglevel);
            plugin.onPreConnection(fresh);
            plugin.onPostConnection(fresh);
            List<String> logged = fresh.logged().stream()
                    .map(line -> line.replaceFirst("started at .*", "started at"))
                    .toList();
            assertEquals(lines, logged, "loglevel " + loglevel);
        });
    }
}
