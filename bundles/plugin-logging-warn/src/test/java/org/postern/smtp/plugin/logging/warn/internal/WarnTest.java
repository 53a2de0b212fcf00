package org.postern.smtp.plugin.logging.warn.internal;

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

class WarnTest {
    private static final String PID = Long.toString(ProcessHandle.current().pid());

    private final List<String> serverLog = new ArrayList<>();

    /** A line of its own session. */
    static LoggingContext line(LogLevel level, String plugin, String hook, String text) {
        return new TestContext().logging(level, plugin, hook, text);
    }

    private Warn plugin(Map<String, ?> config) {
        return new Warn(TestConfig.of(Warn.Config.class, config), (level, line) -> serverLog.add(level + " " + line));
    }

    @Test
    void writesAPluginsLineInQpsmtpdsFormat() {
        assertEquals(ReturnCode.OK, plugin(Map.of()).onLogging(line(LogLevel.ERROR, "rhsbl", "mail", "lookup failed")).code());
        assertEquals(List.of("ERROR " + PID + " (mail) rhsbl: lookup failed"), serverLog);
    }

    @Test
    void writesTheCoresLinesWithThePidAlone() {
        plugin(Map.of()).onLogging(line(LogLevel.WARN, "", "", "spool nearly full"));
        assertEquals(List.of("WARN " + PID + " spool nearly full"), serverLog);
    }

    @Test
    void namesWhatItKnowsOfTheSource() {
        Warn warn = plugin(Map.of());
        warn.onLogging(line(LogLevel.WARN, "karma", "", "outside a hook"));
        warn.onLogging(line(LogLevel.WARN, "", "data_post", "from a hook"));
        assertEquals(List.of("WARN " + PID + " karma: outside a hook", "WARN " + PID + " (data_post) running plugin: from a hook"),
                serverLog);
    }

    @Test
    void dropsLinesBelowTheDefaultLevelWarnAndTakesThemAll() {
        Warn warn = plugin(Map.of());
        assertEquals(ReturnCode.OK, warn.onLogging(line(LogLevel.NOTICE, "", "", "not written")).code());
        warn.onLogging(line(LogLevel.EMERG, "", "", "written"));
        assertEquals(List.of("EMERG " + PID + " written"), serverLog);
    }

    @Test
    void loglevelTakesQpsmtpdsNamesAndNumbers() {
        for (String loglevel : List.of("LOGINFO", "info", "LOG_INFO", "6")) {
            serverLog.clear();
            Warn warn = plugin(Map.of("loglevel", loglevel));
            warn.onLogging(line(LogLevel.DEBUG, "", "", "debug"));
            warn.onLogging(line(LogLevel.INFO, "", "", "info"));
            assertEquals(List.of("INFO " + PID + " info"), serverLog, loglevel);
        }
        serverLog.clear();
        plugin(Map.of("loglevel", "9")).onLogging(line(LogLevel.DEBUG, "", "", "debug"));
        assertEquals(List.of("DEBUG " + PID + " debug"), serverLog);
    }

    @Test
    void anUnknownLoglevelIsWarn() {
        Warn warn = plugin(Map.of("loglevel", "chatty"));
        warn.onLogging(line(LogLevel.NOTICE, "", "", "notice"));
        warn.onLogging(line(LogLevel.WARN, "", "", "warn"));
        assertEquals(List.of("WARN " + PID + " warn"), serverLog);
    }
}
