package org.postern.smtp.plugin.rspamd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RspamdAnswerTest {
    /** An answer captured from Debian's rspamd 3.4. */
    static String captured(String name) throws IOException {
        try (InputStream in = RspamdAnswerTest.class.getResourceAsStream("rspamd-3.4-" + name + ".json")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void gtubeIsARejectWithRspamdsSmtpMessage() throws Exception {
        RspamdAnswer answer = RspamdAnswer.parse(captured("gtube"));
        assertEquals("reject", answer.action());
        assertEquals(15.0, answer.score());
        assertEquals(15.0, answer.requiredScore());
        assertEquals(Map.of("GTUBE", 0.0), answer.symbols());
        assertEquals(Optional.of("Gtube pattern"), answer.smtpMessage());
        assertEquals(List.of(), answer.dkimSignatures());
        assertEquals(List.of(), answer.milterAdd());
    }

    @Test
    void rewriteSubjectCarriesTheSubjectTheSignatureAndTheMilterBlock() throws Exception {
        RspamdAnswer answer = RspamdAnswer.parse(captured("rewrite-subject"));
        assertEquals("rewrite subject", answer.action());
        assertEquals(10.0, answer.score());
        assertEquals(Optional.of("***SPAM*** rspamd-rewrite-subject x"), answer.subject());
        assertEquals(Optional.empty(), answer.smtpMessage());
        assertEquals(10.0, answer.symbols().get("POSTERN_REWRITE_SUBJECT"));
        assertEquals("DKIM_SIGNED", answer.symbols().keySet().iterator().next());
        assertEquals(1, answer.dkimSignatures().size());
        assertTrue(answer.dkimSignatures().get(0).startsWith("v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=postern;\r\n\t"));
        assertEquals(List.of("X-Spam", "X-Spam-Status", "X-Rspamd-Queue-Id"), answer.milterRemove());
        assertEquals(List.of(new RspamdAnswer.MilterField("X-Spam-Status", "Yes, score=10.00", false),
                new RspamdAnswer.MilterField("X-Rspamd-Queue-Id", "abc.1", false)), answer.milterAdd());
    }

    @Test
    void milterValuesComeAloneInObjectsOrInArraysAndAnOrderOfZeroOrMoreMeansTheTop() throws Exception {
        RspamdAnswer answer = RspamdAnswer.parse("{\"action\":\"no action\",\"score\":-0.5,\"milter\":{\"add_headers\":{"
                + "\"A\":\"plain\",\"B\":{\"value\":\"first\",\"order\":0},\"C\":[\"one\",{\"value\":\"two\",\"order\":2}],"
                + "\"D\":{\"order\":1}}}, \"dkim-signature\":[\"v=1; d=a\",\"v=1; d=b\"]}");
        assertEquals(List.of(new RspamdAnswer.MilterField("A", "plain", false), new RspamdAnswer.MilterField("B", "first", true),
                new RspamdAnswer.MilterField("C", "one", false), new RspamdAnswer.MilterField("C", "two", true)), answer.milterAdd());
        assertEquals(List.of("v=1; d=a", "v=1; d=b"), answer.dkimSignatures());
        assertEquals(-0.5, answer.score());
        assertEquals(List.of(), answer.milterRemove());
    }

    @Test
    void rspamdsErrorAnswerIsAFailureWithItsText() {
        RspamdAnswer.Malformed error = assertThrows(RspamdAnswer.Malformed.class,
                () -> RspamdAnswer.parse("{\"error\":\"Message is too big\"}"));
        assertEquals("rspamd answered an error: Message is too big", error.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "garbage", "[1,2]", "\"reject\"", "{\"action\":", "{\"score\":15}", "{\"action\":{}}", "{} trailing"})
    void anythingElseIsMalformed(String answer) {
        assertThrows(RspamdAnswer.Malformed.class, () -> RspamdAnswer.parse(answer));
    }
}
