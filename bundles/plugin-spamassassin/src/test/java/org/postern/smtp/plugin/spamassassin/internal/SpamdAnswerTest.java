package org.postern.smtp.plugin.spamassassin.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postern.smtp.api.HeaderField;

class SpamdAnswerTest {
    /** spamd 4.0.1's answer to HEADERS SPAMC/1.5 for a GTUBE message, as captured from Debian's spamd. */
    static final String GTUBE_ANSWER = "SPAMD/1.1 0 EX_OK\r\nContent-length: 586\r\nSpam: True ; 1004.2 / 5.0\r\n\r\n"
            + "Received: from localhost by vm\r\n\twith SpamAssassin (version 4.0.1);\r\n\tThu, 03 Dec 2026 06:38:30 +0000\r\n"
            + "From: a@example.org\r\nSubject: x\r\nX-Spam-Checker-Version: SpamAssassin 4.0.1 (2024-03-25) on vm\r\n"
            + "X-Spam-Flag: YES\r\nX-Spam-Level: **************************************************\r\n"
            + "X-Spam-Status: Yes, score=1004.2 required=5.0 tests=GTUBE,MISSING_DATE,\r\n"
            + "\tMISSING_HEADERS,MISSING_MID,NO_HEADERS_MESSAGE,NO_RECEIVED,NO_RELAYS,\r\n"
            + "\tTVD_SPACE_RATIO autolearn=no autolearn_force=no version=4.0.1\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: multipart/mixed; boundary=\"----------=_6B110E66.5233515D\"\r\n\r\n";

    @Test
    void readsSpamdsHeadersAnswer() throws Exception {
        SpamdAnswer answer = SpamdAnswer.parse(GTUBE_ANSWER);
        assertTrue(answer.spam());
        assertEquals(1004.2, answer.score());
        assertEquals(5.0, answer.required());
        assertEquals(List.of("X-Spam-Checker-Version", "X-Spam-Flag", "X-Spam-Level", "X-Spam-Status"),
                answer.fields().stream().map(HeaderField::name).toList());
        assertEquals("Yes, score=1004.2 required=5.0 tests=GTUBE,MISSING_DATE,\r\n\tMISSING_HEADERS,MISSING_MID,NO_HEADERS_MESSAGE,"
                + "NO_RECEIVED,NO_RELAYS,\r\n\tTVD_SPACE_RATIO autolearn=no autolearn_force=no version=4.0.1", answer.fields().get(3).value());
    }

    @Test
    void theNoteHasQpsmtpdsFieldsWithTheWholeListOfTests() throws Exception {
        assertEquals(Map.of("is_spam", "Yes", "score", "1004.2", "required", "5.0", "autolearn", "no", "autolearn_force", "no",
                "version", "4.0.1", "tests", "GTUBE,MISSING_DATE,MISSING_HEADERS,MISSING_MID,NO_HEADERS_MESSAGE,NO_RECEIVED,NO_RELAYS,"
                        + "TVD_SPACE_RATIO"), SpamdAnswer.parse(GTUBE_ANSWER).note());
    }

    @Test
    void withoutXSpamStatusTheNoteComesFromTheSpamLine() throws Exception {
        SpamdAnswer answer = SpamdAnswer.parse(FakeSpamd.headersAnswer(false, -0.1, "X-Spam-Level: \r\n"));
        assertFalse(answer.spam());
        assertEquals(Map.of("is_spam", "No", "score", "-0.1", "required", "5.0"), answer.note());
        assertEquals(List.of(new HeaderField("X-Spam-Level", "")), answer.fields());
    }

    @Test
    void spamAssassin2sHitsIsTheScore() throws Exception {
        assertEquals("7.5", SpamdAnswer.parse(FakeSpamd.headersAnswer(true, 7.5, "X-Spam-Status: Yes, hits=7.5 required=5.0\r\n"))
                .note().get("score"));
    }

    @Test
    void theReportAndThePreviousSubjectAreLeftOutAsQpsmtpdDoes() throws Exception {
        SpamdAnswer answer = SpamdAnswer.parse(FakeSpamd.headersAnswer(true, 7.5, "X-Spam-Prev-Subject: hello\r\n",
                "X-Spam-Report: \r\n\t*  1.0 GTUBE BODY: Generic Test\r\n", "X-Spam-Flag: YES\r\n"));
        assertEquals(List.of(new HeaderField("X-Spam-Flag", "YES")), answer.fields());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SPAMD/1.1 75 EX_TEMPFAIL\r\n",
        "SPAMD/1.0 76 Bad header line: (Content-Length mismatch: Expected 5 bytes, got 12 bytes)\r\n",
        "HELLO\r\n",
        "",
        "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n",
        "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n",
        "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: maybe\r\n\r\n",
        "SPAMD/1.1 0 EX_OK\r\nContent-length: 500\r\nSpam: True ; 7.0 / 5.0\r\n\r\nX-Spam-Flag: YES\r\n\r\n",
        "SPAMD/1.1 0 EX_OK\r\nContent-length: x\r\nSpam: True ; 7.0 / 5.0\r\n\r\n",
        "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 7.0 / 5.0\r\n\r\nX-Spam-Fl\u00e4g: YES\r\n\r\n",
    })
    void anythingButASuccessfulAnswerIsAFailure(String answer) {
        assertThrows(SpamdAnswer.Failure.class, () -> SpamdAnswer.parse(answer));
    }

    @Test
    void theFailureSaysWhatSpamdAnswered() {
        assertEquals("spamd answered SPAMD/1.1 75 EX_TEMPFAIL",
                assertThrows(SpamdAnswer.Failure.class, () -> SpamdAnswer.parse("SPAMD/1.1 75 EX_TEMPFAIL\r\n")).getMessage());
        assertEquals("not a spamd answer: HELLO?", assertThrows(SpamdAnswer.Failure.class, () -> SpamdAnswer.parse("HELLO\u0000"))
                .getMessage());
    }
}
