package org.postern.smtp.plugin.logging.transactionid.internal;

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

class TransactionIdTest {
    private final List<String> serverLog = new ArrayList<>();

    /** A line of a session whose current transaction is 5qig.2.2. */
    private static LoggingContext line(LogLevel level, String plugin, String hook, String text) {
        return inTransaction("5qig.2.2").logging(level, plugin, hook, text);
    }

    private static TestContext inTransaction(String id) {
        TestContext session = new TestContext();
        session.transaction().id(id);
        return session;
    }

    private TransactionId plugin(Map<String, ?> config) {
        return new TransactionId(TestConfig.of(TransactionId.Config.class, config), (level, line) -> serverLog.add(level + " " + line));
    }

    @Test
    void leadsEachLineWithItsTransactionsIdAndSource() {
        TransactionId transactionId = plugin(Map.of());
        LoggingContext first = inTransaction("5qig.2.1").logging(LogLevel.WARN, "", "", "before the first MAIL");
        assertEquals(ReturnCode.OK, transactionId.onLogging(first).code());
        assertEquals(ReturnCode.OK, transactionId.onLogging(line(LogLevel.ERROR, "rhsbl", "mail", "lookup failed")).code());
        transactionId.onLogging(line(LogLevel.WARN, "", "data_post", "from a hook"));
        assertEquals(List.of("WARN 5qig.2.1 before the first MAIL", "ERROR 5qig.2.2 rhsbl plugin: lookup failed",
                "WARN 5qig.2.2 running plugin (data_post): from a hook"), serverLog);
    }

    @Test
    void dropsLinesBelowTheDefaultLevelWarnAndTakesThemAll() {
        TransactionId transactionId = plugin(Map.of());
        assertEquals(ReturnCode.OK, transactionId.onLogging(line(LogLevel.NOTICE, "", "", "not written")).code());
        transactionId.onLogging(line(LogLevel.WARN, "", "", "written"));
        assertEquals(List.of("WARN 5qig.2.2 written"), serverLog);
    }

    @Test
    void loglevelTakesQpsmtpdsNamesAndNumbers() {
        for (String loglevel : List.of("LOGNOTICE", "log_notice", "5")) {
            serverLog.clear();
            TransactionId transactionId = plugin(Map.of("loglevel", loglevel));
            transactionId.onLogging(line(LogLevel.INFO, "", "", "info"));
            transactionId.onLogging(line(LogLevel.NOTICE, "", "", "notice"));
            assertEquals(List.of("NOTICE 5qig.2.2 notice"), serverLog, loglevel);
        }
        serverLog.clear();
        plugin(Map.of("loglevel", "8")).onLogging(line(LogLevel.DEBUG, "", "", "debug"));
        assertEquals(List.of("DEBUG 5qig.2.2 debug"), serverLog, "a number above 7 writes everything");
    }

    @Test
    void anUnknownLoglevelIsWarn() {
        TransactionId transactionId = plugin(Map.of("loglevel", "LOGLOUD"));
        transactionId.onLogging(line(LogLevel.NOTICE, "", "", "notice"));
        transactionId.onLogging(line(LogLevel.WARN, "", "", "warn"));
        assertEquals(List.of("WARN 5qig.2.2 warn"), serverLog);
    }
}
