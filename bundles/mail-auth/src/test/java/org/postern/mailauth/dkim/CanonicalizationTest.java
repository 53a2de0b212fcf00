package org.postern.mailauth.dkim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HeaderField;

/** RFC 6376 3.4.5's example, and the body rules at the edges (empty bodies, chunk boundaries, l=). */
class CanonicalizationTest {
    private static final String EXAMPLE_BODY = " C \r\nD \t E\r\n\r\n\r\n";

    @Test
    void relaxedHeaderAsTheRfcExampleShows() {
        assertEquals("a:X\r\n", Canonicalization.RELAXED.header(new HeaderField("A", " X")));
        assertEquals("b:Y Z", Canonicalization.RELAXED.header("B ", " Y\t\r\n\tZ  "));
    }

    @Test
    void simpleHeaderIsUnchanged() {
        assertEquals("B : Y\t\r\n\tZ  ", Canonicalization.SIMPLE.header("B ", " Y\t\r\n\tZ  "));
    }

    @Test
    void relaxedBodyAsTheRfcExampleShows() throws Exception {
        assertArrayEquals(sha256(" C\r\nD E\r\n"), hash(Canonicalization.RELAXED, EXAMPLE_BODY, -1));
    }

    @Test
    void simpleBodyAsTheRfcExampleShows() throws Exception {
        assertArrayEquals(sha256(" C \r\nD \t E\r\n"), hash(Canonicalization.SIMPLE, EXAMPLE_BODY, -1));
    }

    @Test
    void anEmptyBodyIsOneLineBreakWhenSimpleAndNothingWhenRelaxed() throws Exception {
        assertArrayEquals(sha256("\r\n"), hash(Canonicalization.SIMPLE, "", -1));
        assertArrayEquals(sha256("\r\n"), hash(Canonicalization.SIMPLE, "\r\n\r\n", -1));
        assertArrayEquals(sha256(""), hash(Canonicalization.RELAXED, " \r\n\t\r\n", -1));
    }

    @Test
    void aLastLineWithoutLineBreakGetsOne() throws Exception {
        assertArrayEquals(sha256("end\r\n"), hash(Canonicalization.SIMPLE, "end", -1));
        assertArrayEquals(sha256("a\rb\r\n"), hash(Canonicalization.RELAXED, "a\rb", -1));
    }

    @Test
    void chunkBoundariesDoNotMatter() throws Exception {
        for (Canonicalization canonicalization : Canonicalization.values()) {
            BodyHasher oneByOne = new BodyHasher(canonicalization, "SHA-256", -1);
            byte[] body = EXAMPLE_BODY.getBytes(StandardCharsets.ISO_8859_1);
            for (int i = 0; i < body.length; i++) {
                oneByOne.update(body, i, 1);
            }
            assertArrayEquals(hash(canonicalization, EXAMPLE_BODY, -1), oneByOne.digest(), canonicalization.keyword());
        }
    }

    @Test
    void theLengthLimitCutsTheCanonicalBody() throws Exception {
        BodyHasher hasher = new BodyHasher(Canonicalization.RELAXED, "SHA-256", 4);
        byte[] body = EXAMPLE_BODY.getBytes(StandardCharsets.ISO_8859_1);
        hasher.update(body, 0, body.length);
        assertArrayEquals(sha256(" C\r\n"), hasher.digest());
        assertEquals(" C\r\nD E\r\n".length(), hasher.canonicalLength());
    }

    private static byte[] hash(Canonicalization canonicalization, String body, long limit) {
        BodyHasher hasher = new BodyHasher(canonicalization, "SHA-256", limit);
        byte[] octets = body.getBytes(StandardCharsets.ISO_8859_1);
        hasher.update(octets, 0, octets.length);
        return hasher.digest();
    }

    private static byte[] sha256(String text) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.ISO_8859_1));
    }
}
