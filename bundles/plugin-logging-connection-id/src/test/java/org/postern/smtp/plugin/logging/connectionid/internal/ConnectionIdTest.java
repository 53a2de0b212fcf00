package org.postern.smtp.plugin.logging.connectionid.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.LoggingContext;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class ConnectionIdTest {
    private final List<String> serverLog = new ArrayList<>();

    /** A line of its own session. */
    static LoggingContext line(LogLevel level, String plugin, String hook, String text) {
        return new TestContext().logging(level, plugin, hook, text);
    }

    private ConnectionId plugin(Map<String, ?> config) {
        return new ConnectionId(TestConfig.of(ConnectionId.Config.class, config), (level, line) -> serverLog.add(level + " " + line));
    }

    @Test
    void leadsAPluginsLineWithTheConnectionsId() {
        assertEquals(ReturnCode.OK, plugin(Map.of()).onLogging(line(LogLevel.ERROR, "rhsbl", "mail", "lookup failed")).code());
        assertEquals(List.of("ERROR test.1 rhsbl plugin: lookup failed"), serverLog);
    }

    @Test
    void namesTheHookWhenThePluginIsUnknownAndNothingForTheCore() {
        ConnectionId connectionId = plugin(Map.of());
        connectionId.onLogging(line(LogLevel.WARN, "", "data_post", "from a hook"));
        connectionId.onLogging(line(LogLevel.WARN, "", "", "spool nearly full"));
        assertEquals(List.of("WARN test.1 running plugin (data_post): from a hook", "WARN test.1 spool nearly full"), serverLog);
    }

    @Test
    void dropsLinesBelowTheDefaultLevelWarnAndTakesThemAll() {
        ConnectionId connectionId = plugin(Map.of());
        assertEquals(ReturnCode.OK, connectionId.onLogging(line(LogLevel.NOTICE, "", "", "not written")).code());
        connectionId.onLogging(line(LogLevel.CRIT, "", "", "written"));
        assertEquals(List.of("CRIT test.1 written"), serverLog);
    }

    @Test
    void loglevelTakesQpsmtpdsNamesAndNumbers() {
        for (String loglevel : List.of("LOGDEBUG", "debug", "7", "12")) {
            serverLog.clear();
            plugin(Map.of("loglevel", loglevel)).onLogging(line(LogLevel.DEBUG, "", "", "debug"));
            assertEquals(List.of("DEBUG test.1 debug"), serverLog, loglevel);
        }
        serverLog.clear();
        ConnectionId errorsOnly = plugin(Map.of("loglevel", "LOGERROR"));
        errorsOnly.onLogging(line(LogLevel.WARN, "", "", "warn"));
        errorsOnly.onLogging(line(LogLevel.ERROR, "", "", "error"));
        assertEquals(List.of("ERROR test.1 error"), serverLog);
    }

    @Test
    void anUnknownLoglevelIsWarn() {
        ConnectionId connectionId = plugin(Map.of("loglevel", "LOGLOUD"));
        connectionId.onLogging(line(LogLevel.NOTICE, "", "", "notice"));
        connectionId.onLogging(line(LogLevel.WARN, "", "", "warn"));
        assertEquals(List.of("WARN test.1 warn"), serverLog);
    }
}
