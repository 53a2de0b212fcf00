package org.postern.smtp.core.internal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ParsedHeaderTest {
    @Test
    void keepsUntouchedFieldsByteForByte() {
        List<String> lines = List.of("Subject: a long", "\tfolded subject", "DKIM-Signature: v=1;", " b=abc", "X-Empty:");
        ParsedHeader header = ParsedHeader.parse(lines);
        assertEquals("Subject: a long\r\n\tfolded subject\r\nDKIM-Signature: v=1;\r\n b=abc\r\nX-Empty:\r\n",
                new String(header.encode(), StandardCharsets.ISO_8859_1));
        assertEquals(List.of("a long\tfolded subject"), header.get("subject"));
    }

    @Test
    void pluginsAddPrependSetAndRemove() {
        ParsedHeader header = ParsedHeader.parse(List.of("From: a@example.org", "X-Spam: yes", "x-spam: maybe"));
        header.prepend("Received", "from somewhere");
        header.add("X-Added", "1");
        assertEquals(2, header.remove("X-SPAM"));
        header.set("From", "b@example.org");
        assertEquals("Received: from somewhere\r\nX-Added: 1\r\nFrom: b@example.org\r\n",
                new String(header.encode(), StandardCharsets.ISO_8859_1));
    }

    @Test
    void aFieldStartNeedsANameAndAColon() {
        assertTrue(ParsedHeader.isFieldStart("Subject: x"));
        assertTrue(ParsedHeader.isFieldStart("Subject : x"));
        assertFalse(ParsedHeader.isFieldStart("no colon here"));
        assertFalse(ParsedHeader.isFieldStart(": empty name"));
        assertFalse(ParsedHeader.isFieldStart("two words: x"));
    }
}
