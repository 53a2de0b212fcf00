package org.postern.smtp.plugin.spamassassin.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SpamdVerdictTest {
    @Test
    void parsesASymbolsAnswer() {
        SpamdVerdict verdict = SpamdVerdict.parse("SPAMD/1.1 0 EX_OK\r\nContent-length: 25\r\nSpam: True ; 1003.7 / 5.0\r\n\r\n"
                + "GTUBE,MISSING_DATE,NO_RELAYS\r\n");
        assertTrue(verdict.spam());
        assertEquals(1003.7, verdict.score());
        assertEquals(5.0, verdict.required());
        assertEquals(List.of("GTUBE", "MISSING_DATE", "NO_RELAYS"), verdict.rules());
        assertEquals("Yes, score=1003.7 required=5.0 tests=GTUBE,MISSING_DATE,NO_RELAYS", verdict.status());
    }

    @Test
    void parsesAHamAnswerWithNegativeScoreAndNoRules() {
        SpamdVerdict verdict = SpamdVerdict.parse("SPAMD/1.1 0 EX_OK\r\nSpam: False ; -0.1 / 5.0\r\n\r\n");
        assertEquals(false, verdict.spam());
        assertEquals(-0.1, verdict.score());
        assertEquals(List.of(), verdict.rules());
    }

    @Test
    void refusesErrorAnswers() {
        assertThrows(IllegalArgumentException.class, () -> SpamdVerdict.parse("SPAMD/1.0 76 Bad header line: x\r\n\r\n"));
        assertThrows(IllegalArgumentException.class, () -> SpamdVerdict.parse("SPAMD/1.1 0 EX_OK\r\n\r\n"));
    }
}
