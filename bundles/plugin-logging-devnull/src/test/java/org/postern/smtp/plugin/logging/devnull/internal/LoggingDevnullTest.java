package org.postern.smtp.plugin.logging.devnull.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.LoggingContext;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestContext;

class LoggingDevnullTest {
    @Test
    void takesEveryLineOfEveryLevelAndOriginAndLogsNothingItself() {
        LoggingDevnull devnull = new LoggingDevnull();
        for (LogLevel level : LogLevel.values()) {
            for (String plugin : new String[] {"", "badrcptto"}) {
                TestContext session = new TestContext();
                LoggingContext line = session.logging(level, plugin, plugin.isEmpty() ? "" : "rcpt", "a line");
                assertEquals(ReturnCode.OK, devnull.onLogging(line).code(), level + " from '" + plugin + "'");
                assertTrue(session.logged().isEmpty(), session.logged().toString());
            }
        }
    }
}
