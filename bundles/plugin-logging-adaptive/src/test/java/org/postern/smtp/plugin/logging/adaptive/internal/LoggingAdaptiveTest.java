package org.postern.smtp.plugin.logging.adaptive.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.LoggingContext;
import org.postern.smtp.api.ResultContext;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class LoggingAdaptiveTest {
    /** One session: its log lines one at a time, and the answer of a plugin that denied. */
    private static final class Session extends TestContext implements ResultContext {
        LoggingContext line(LogLevel level, String plugin, String hook, String text) {
            return logging(level, plugin, hook, text);
        }

        @Override
        public String pluginName() {
            return "badrcptto";
        }

        @Override
        public String hookName() {
            return "rcpt";
        }

        @Override
        public HookResult result() {
            return HookResult.deny("no");
        }
    }

    private final List<String> written = new ArrayList<>();

    private LoggingAdaptive plugin(Map<String, ?> config) {
        return new LoggingAdaptive(TestConfig.of(LoggingAdaptive.Config.class, config),
                (level, text) -> written.add(level + " " + text));
    }

    /** A session's lines: the core's, a plugin's, one from a hook without plugin, at WARN, ERROR and INFO. */
    private static void talk(LoggingAdaptive plugin, Session session) {
        assertEquals(ReturnCode.OK, plugin.onLogging(session.line(LogLevel.WARN, "", "", "core line")).code());
        assertEquals(ReturnCode.OK, plugin.onLogging(session.line(LogLevel.ERROR, "badrcptto", "rcpt", "plugin line")).code());
        plugin.onLogging(session.line(LogLevel.WARN, "", "rcpt", "hook line"));
        assertEquals(ReturnCode.OK, plugin.onLogging(session.line(LogLevel.INFO, "", "", "below reject")).code());
    }

    @Test
    void keepsLinesUntilADenialThenWritesThemAndTheLaterOnes() {
        LoggingAdaptive plugin = plugin(Map.of());
        Session session = new Session();
        talk(plugin, session);
        assertEquals(List.of(), written, "nothing before the denial");
        assertEquals(ReturnCode.DECLINED, plugin.onDeny(session).code());
        plugin.onLogging(session.line(LogLevel.WARN, "", "", "after the denial"));
        plugin.onPostConnection(session);
        assertEquals(List.of("WARN test.1 core line", "ERROR test.1 badrcptto plugin: plugin line",
                "WARN test.1 running plugin (rcpt): hook line", "WARN test.1 after the denial"), written);
    }

    @Test
    void aSessionWithoutDenialGetsOnlyItsAcceptLevelLinesWithThePrefix() {
        LoggingAdaptive plugin = plugin(Map.of());
        Session session = new Session();
        talk(plugin, session);
        assertEquals(ReturnCode.DECLINED, plugin.onPostConnection(session).code());
        plugin.onLogging(session.line(LogLevel.CRIT, "", "", "after the end"));
        plugin.onLogging(session.line(LogLevel.WARN, "", "", "after the end, below accept"));
        assertEquals(List.of("ERROR test.1 ` badrcptto plugin: plugin line", "CRIT test.1 ` after the end"), written);
    }

    @Test
    void sessionsAreKeptApart() {
        LoggingAdaptive plugin = plugin(Map.of());
        Session denied = new Session();
        Session accepted = new Session();
        plugin.onLogging(denied.line(LogLevel.WARN, "", "", "denied one"));
        plugin.onLogging(accepted.line(LogLevel.WARN, "", "", "accepted one"));
        plugin.onDeny(denied);
        plugin.onPostConnection(accepted);
        plugin.onPostConnection(denied);
        assertEquals(List.of("WARN test.1 denied one"), written);
    }

    @Test
    void acceptRejectAndPrefixTakeNumbersAndNames() {
        LoggingAdaptive plugin = plugin(Map.of("accept", "LOGWARN", "reject", "6", "prefix", "+"));
        Session session = new Session();
        talk(plugin, session);
        plugin.onPostConnection(session);
        assertEquals(List.of("WARN test.1 + core line", "ERROR test.1 + badrcptto plugin: plugin line",
                "WARN test.1 + running plugin (rcpt): hook line"), written);
        Session denied = new Session();
        talk(plugin, denied);
        written.clear();
        plugin.onDeny(denied);
        assertEquals(4, written.size(), "INFO is kept at reject 6: " + written);
    }

    @Test
    void anUnknownLevelFallsBackToTheDefault() {
        LoggingAdaptive plugin = plugin(Map.of("accept", "loud", "reject", "LOGNONSENSE"));
        Session session = new Session();
        talk(plugin, session);
        plugin.onDeny(session);
        assertEquals(3, written.size(), "reject LOGWARN: " + written);
    }

    @Test
    void eachTransactionWithoutDenialIsWrittenWhenItEnds() {
        LoggingAdaptive plugin = plugin(Map.of());
        Session session = new Session();
        plugin.onLogging(session.line(LogLevel.ERROR, "", "", "first message"));
        assertEquals(ReturnCode.DECLINED, plugin.onResetTransaction(session).code());
        assertEquals(List.of("ERROR test.1 ` first message"), written);
        plugin.onLogging(session.line(LogLevel.WARN, "", "", "second message, its detail"));
        plugin.onDeny(session);
        plugin.onPostConnection(session);
        assertEquals(List.of("ERROR test.1 ` first message", "WARN test.1 second message, its detail"), written,
                "the accepted transaction's lines are not written again");
    }

    @Test
    void keepsTheNewestLinesWithinMaxKeptCharsAndSaysHowManyWent() {
        LoggingAdaptive plugin = plugin(Map.of("max_kept_chars", 250));
        Session session = new Session();
        for (int i = 1; i <= 5; i++) {
            plugin.onLogging(session.line(LogLevel.WARN, "", "", "line " + i));
        }
        plugin.onDeny(session);
        plugin.onDeny(session);
        assertEquals(List.of("WARN test.1 3 earlier lines not kept (max_kept_chars 250)", "WARN test.1 line 4",
                "WARN test.1 line 5"), written);
    }

    @Test
    void aLongLineCountsItsLengthAndOneLongerThanTheLimitIsNotKept() {
        LoggingAdaptive plugin = plugin(Map.of("max_kept_chars", 1000));
        Session session = new Session();
        plugin.onLogging(session.line(LogLevel.WARN, "", "", "short"));
        plugin.onLogging(session.line(LogLevel.WARN, "", "", "x".repeat(950)));
        plugin.onLogging(session.line(LogLevel.WARN, "", "", "y".repeat(1001)));
        plugin.onDeny(session);
        assertEquals(2, written.size(), written.toString());
        assertEquals("WARN test.1 2 earlier lines not kept (max_kept_chars 1000)", written.get(0));
        assertEquals("WARN test.1 " + "x".repeat(950), written.get(1));
    }

    @Test
    void aSessionThatNeverEndsKeepsNoMoreThanItsLimit() {
        LoggingAdaptive plugin = plugin(Map.of());
        Session session = new Session();
        for (int i = 0; i < 100_000; i++) {
            plugin.onLogging(session.line(LogLevel.WARN, "", "", "line " + i));
        }
        plugin.onDeny(session);
        // the default 32768 characters, at least 100 a line
        assertEquals(1 + 327, written.size());
        assertEquals("WARN test.1 line 99999", written.get(written.size() - 1));
    }

    @Test
    void aMaxKeptCharsBelowOneLineFallsBackToTheDefault() {
        LoggingAdaptive plugin = plugin(Map.of("max_kept_chars", 10));
        Session session = new Session();
        talk(plugin, session);
        plugin.onDeny(session);
        assertEquals(3, written.size(), written.toString());
    }
}
