package org.postern.smtp.plugin.virus.clamdscan.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.postern.smtp.plugin.virus.clamdscan.internal.ClamdAnswer.Outcome;

class ClamdAnswerTest {
    @Test
    void aCleanStreamNamesTheEngineAsQpsmtpdDoes() throws IOException {
        assertEquals(new ClamdAnswer("ClamAV 1.4.6", Outcome.CLEAN, null),
                ClamdAnswer.of("ClamAV 1.4.6/27480/Mon Dec  1 09:27:01 2025", "stream: OK"));
        assertEquals("ClamAV 1.4.6", ClamdAnswer.of("ClamAV 1.4.6", "stream: OK").engine(), "without signatures from freshclam");
        assertEquals("ClamAV", ClamdAnswer.of(null, "stream: OK").engine(), "no VERSION reply");
    }

    @Test
    void aFoundStreamGivesTheSignaturesName() throws IOException {
        assertEquals(new ClamdAnswer("ClamAV 1.4.6", Outcome.INFECTED, "Win.Test.EICAR_HDB-1"),
                ClamdAnswer.of("ClamAV 1.4.6/27480/x", "stream: Win.Test.EICAR_HDB-1 FOUND"));
        assertEquals("Postern-Test-EICAR.UNOFFICIAL", ClamdAnswer.of("ClamAV 1.4.6", "stream: Postern-Test-EICAR.UNOFFICIAL FOUND").virus());
    }

    @Test
    void theSizeLimitIsNotAFailure() throws IOException {
        assertEquals(Outcome.TOO_LARGE, ClamdAnswer.of("ClamAV 1.4.6", "INSTREAM size limit exceeded. ERROR").outcome());
    }

    @Test
    void anyOtherReplyIsAFailure() {
        for (String reply : new String[] {"stream: Can't allocate memory ERROR", "COMMAND READ TIMED OUT", "stream: OK ", ""}) {
            IOException failure = assertThrows(IOException.class, () -> ClamdAnswer.of("ClamAV 1.4.6", reply));
            assertEquals("clamd answered: " + reply, failure.getMessage());
        }
    }
}
