package org.postern.smtp.plugin.logging.file.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.LoggingContext;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestClock;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class LoggingFileTest {
    /** One session's log lines, one at a time, all from badrcptto at rcpt. */
    private static final class SessionLines extends TestContext {
        LoggingContext line(LogLevel level, String text) {
            return logging(level, "badrcptto", "rcpt", text);
        }
    }

    @TempDir
    Path folder;
    private final TestClock clock = new TestClock(Instant.parse("2024-03-09T23:59:30Z"));
    private LoggingFile plugin;


    private LoggingFile plugin(String path, Object... keysAndValues) {
        Map<String, Object> values = new HashMap<>(Map.of("path", folder.resolve(path).toString()));
        for (int i = 0; i < keysAndValues.length; i += 2) {
            values.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        plugin = new LoggingFile(TestConfig.of(LoggingFile.Config.class, values), clock);
        return plugin;
    }

    @AfterEach
    void closeFile() {
        if (plugin != null) {
            plugin.close();
        }
    }

    private List<String> lines(String file) throws Exception {
        Path path = folder.resolve(file);
        return Files.exists(path) ? Files.readAllLines(path) : List.of();
    }

    @Test
    void writesLinesAtWarnAndAboveWithTimeHostAndSessionAndDeclines() throws Exception {
        LoggingFile file = plugin("qpsmtpd.log");
        SessionLines session = new SessionLines();
        assertEquals(ReturnCode.DECLINED, file.onLogging(session.line(LogLevel.WARN, "first")).code());
        assertEquals(ReturnCode.DECLINED, file.onLogging(session.line(LogLevel.INFO, "too chatty")).code());
        file.onLogging(session.line(LogLevel.CRIT, "second"));
        List<String> lines = lines("qpsmtpd.log");
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).matches("Sat Mar 09 23:59:30 2024 \\S+\\[test\\.1\\]: first"), lines.get(0));
        assertTrue(lines.get(1).endsWith("[test.1]: second"), lines.get(1));
    }

    @Test
    void eachLineIsOnDiskAsSoonAsItIsLogged() throws Exception {
        LoggingFile file = plugin("qpsmtpd.log");
        file.onLogging(new SessionLines().line(LogLevel.ERROR, "at once"));
        assertEquals(1, lines("qpsmtpd.log").size(), "flushed while the file stays open");
    }

    @Test
    void appendsToAnExistingFile() throws Exception {
        Files.writeString(folder.resolve("qpsmtpd.log"), "earlier\n");
        plugin("qpsmtpd.log").onLogging(new SessionLines().line(LogLevel.ERROR, "later"));
        List<String> lines = lines("qpsmtpd.log");
        assertEquals("earlier", lines.get(0));
        assertTrue(lines.get(1).endsWith(": later"));
    }

    @Test
    void loglevelTakesANumberOrAName() throws Exception {
        Map<String, Integer> written = Map.of("7", 3, "LOGINFO", 2, "loginfo", 2, "0", 0, "LOGNONSENSE", 1);
        for (Map.Entry<String, Integer> loglevel : written.entrySet()) {
            String name = "level-" + loglevel.getKey() + ".log";
            LoggingFile file = plugin(name, "loglevel", loglevel.getKey());
            SessionLines session = new SessionLines();
            file.onLogging(session.line(LogLevel.DEBUG, "debug"));
            file.onLogging(session.line(LogLevel.INFO, "info"));
            file.onLogging(session.line(LogLevel.WARN, "warn"));
            file.close();
            assertEquals(loglevel.getValue(), lines(name).size(), "loglevel " + loglevel.getKey());
        }
    }

    @Test
    void aDatePatternMovesToTheNextFileWhenTheDateChanges() throws Exception {
        LoggingFile file = plugin("qpsmtpd.log.%Y-%m-%d");
        SessionLines session = new SessionLines();
        file.onLogging(session.line(LogLevel.WARN, "before midnight"));
        clock.advance(Duration.ofMinutes(1));
        file.onLogging(session.line(LogLevel.WARN, "after midnight"));
        assertEquals(1, lines("qpsmtpd.log.2024-03-09").size());
        assertTrue(lines("qpsmtpd.log.2024-03-10").get(0).endsWith("after midnight"));
    }

    @Test
    void nosplitKeepsAnOlderSessionInItsFileWhileANewerOneWritesTheNext() throws Exception {
        LoggingFile file = plugin("qpsmtpd.log.%Y-%m-%d", "nosplit", true);
        SessionLines older = new SessionLines();
        file.onLogging(older.line(LogLevel.WARN, "older, before midnight"));
        clock.advance(Duration.ofMinutes(1));
        file.onLogging(new SessionLines().line(LogLevel.WARN, "newer"));
        file.onLogging(older.line(LogLevel.WARN, "older, after midnight"));
        assertEquals(2, lines("qpsmtpd.log.2024-03-09").size(), lines("qpsmtpd.log.2024-03-09").toString());
        assertEquals(1, lines("qpsmtpd.log.2024-03-10").size());
    }

    @Test
    void percentIStartsAFilePerSession() throws Exception {
        plugin("session-%i.log").onLogging(new SessionLines().line(LogLevel.WARN, "mine"));
        assertEquals(1, lines("session-test.1.log").size());
    }

    @Test
    void reopenOpensTheFileAgainOncePerSession() throws Exception {
        LoggingFile file = plugin("qpsmtpd.log", "reopen", true);
        SessionLines first = new SessionLines();
        file.onLogging(first.line(LogLevel.WARN, "one"));
        // an admin's logrotate moves the file away: only a reopen writes to a new one
        Files.move(folder.resolve("qpsmtpd.log"), folder.resolve("qpsmtpd.log.1"));
        file.onLogging(first.line(LogLevel.WARN, "two"));
        file.onLogging(new SessionLines().line(LogLevel.WARN, "three"));
        assertEquals(2, lines("qpsmtpd.log.1").size(), "the same session goes on in the open file");
        assertEquals(1, lines("qpsmtpd.log").size(), "the next session reopened the path");
    }

    @Test
    void withoutReopenTheOpenFileIsKept() throws Exception {
        LoggingFile file = plugin("qpsmtpd.log");
        file.onLogging(new SessionLines().line(LogLevel.WARN, "one"));
        Files.move(folder.resolve("qpsmtpd.log"), folder.resolve("qpsmtpd.log.1"));
        file.onLogging(new SessionLines().line(LogLevel.WARN, "two"));
        assertEquals(2, lines("qpsmtpd.log.1").size());
        assertFalse(Files.exists(folder.resolve("qpsmtpd.log")));
    }

    @Test
    void tsformatSetsTheTimeStamp() throws Exception {
        plugin("qpsmtpd.log", "tsformat", "%FT%T").onLogging(new SessionLines().line(LogLevel.WARN, "stamped"));
        assertTrue(lines("qpsmtpd.log").get(0).startsWith("2024-03-09T23:59:30 "), lines("qpsmtpd.log").toString());
    }

    @Test
    void aFileThatCannotBeOpenedDeclinesEachLine() {
        LoggingFile file = plugin("missing-folder/qpsmtpd.log");
        assertEquals(ReturnCode.DECLINED, file.onLogging(new SessionLines().line(LogLevel.WARN, "lost")).code());
        assertFalse(Files.exists(folder.resolve("missing-folder")));
    }

    @Test
    void aPathStartingWithABarWritesToACommandsInput() throws Exception {
        Path piped = folder.resolve("piped.log");
        LoggingFile file = new LoggingFile(TestConfig.of(LoggingFile.Config.class,
                Map.of("path", "| cat >> '" + piped + "'", "loglevel", "LOGCRIT")), clock);
        plugin = file;
        SessionLines session = new SessionLines();
        file.onLogging(session.line(LogLevel.ERROR, "not critical"));
        file.onLogging(session.line(LogLevel.CRIT, "page the admin"));
        long deadline = System.currentTimeMillis() + 10_000;
        while (lines("piped.log").isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        List<String> lines = lines("piped.log");
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).endsWith("[test.1]: page the admin"), lines.get(0));
    }

    @Test
    void aMissingPathLogsNothing() {
        LoggingFile file = new LoggingFile(TestConfig.of(LoggingFile.Config.class, Map.of()), clock);
        assertEquals(ReturnCode.DECLINED, file.onLogging(new SessionLines().line(LogLevel.EMERG, "nowhere")).code());
    }

    @Test
    void strftimeKnowsTheCLocalesConversions() {
        ZonedDateTime time = ZonedDateTime.of(2024, 3, 9, 7, 5, 3, 0, ZoneOffset.UTC);
        assertEquals("Sat Saturday Mar March 09  9 07  7 07 AM 069 %q 100% 1709967903",
                Strftime.format("%a %A %b %B %d %e %H %k %I %p %j %q 100%% %s", time));
        assertEquals("03/09/24 07:05:03 2024-03-09 07:05 6 6 10 +0000", Strftime.format("%D %T %F %R %u %w %V %z", time));
    }

    @Test
    void strftimeAgreesWithTheCLibrary() throws Exception {
        String pattern = "%a %A %b %B %c %C %d %D %e %F %g %G %h %H %I %j %k %l %m %M %p %P %r %R %s %S %T %u %U %V %w %W "
                + "%x %X %y %Y %z %Z %%";
        for (String zone : List.of("UTC", "Europe/Berlin")) {
            for (String instant : List.of("2024-03-09T07:05:03Z", "2021-01-03T23:59:59Z", "2026-07-31T12:00:00Z")) {
                ZonedDateTime time = ZonedDateTime.ofInstant(Instant.parse(instant), java.time.ZoneId.of(zone));
                // date(1) formats through the C library's strftime
                ProcessBuilder date = new ProcessBuilder("date", "-d", "@" + time.toEpochSecond(), "+" + pattern);
                date.environment().put("LC_ALL", "C");
                date.environment().put("TZ", zone);
                Process process = date.start();
                String expected = new String(process.getInputStream().readAllBytes()).strip();
                assertEquals(0, process.waitFor());
                assertEquals(expected, Strftime.format(pattern, time), zone + " " + instant);
            }
        }
    }
}
