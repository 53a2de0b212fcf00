package org.postern.smtp.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class LogLevelTest {
    @Test
    void qpsmtpdNumbersRunFromSevenForDebugToZeroForEmerg() {
        assertEquals(7, LogLevel.DEBUG.qpsmtpdNumber());
        assertEquals(4, LogLevel.WARN.qpsmtpdNumber());
        assertEquals(0, LogLevel.EMERG.qpsmtpdNumber());
    }

    @Test
    void parseTakesQpsmtpdsNamesInAnyCaseWithOrWithoutTheirPrefix() {
        assertEquals(Optional.of(LogLevel.INFO), LogLevel.parse("LOGINFO"));
        assertEquals(Optional.of(LogLevel.INFO), LogLevel.parse(" info "));
        assertEquals(Optional.of(LogLevel.INFO), LogLevel.parse("LOG_INFO"));
        assertEquals(Optional.of(LogLevel.WARN), LogLevel.parse("warning"));
        assertEquals(Optional.of(LogLevel.EMERG), LogLevel.parse("LOGEMERG"));
    }

    @Test
    void parseTakesQpsmtpdsNumbersAndALargerOneKeepsEveryLine() {
        assertEquals(Optional.of(LogLevel.EMERG), LogLevel.parse("0"));
        assertEquals(Optional.of(LogLevel.WARN), LogLevel.parse("4"));
        assertEquals(Optional.of(LogLevel.DEBUG), LogLevel.parse("7"));
        assertEquals(Optional.of(LogLevel.DEBUG), LogLevel.parse("9"));
    }

    @Test
    void anythingElseIsNoLevel() {
        assertEquals(Optional.empty(), LogLevel.parse("loud"));
        assertEquals(Optional.empty(), LogLevel.parse("-1"));
        assertEquals(Optional.empty(), LogLevel.parse(""));
        assertEquals(Optional.empty(), LogLevel.parse(null));
    }
}
