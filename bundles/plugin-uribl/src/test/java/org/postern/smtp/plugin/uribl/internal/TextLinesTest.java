package org.postern.smtp.plugin.uribl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextLinesTest {
    private final List<String> lines = new ArrayList<>();

    private boolean read(String text) throws IOException {
        return TextLines.forEach(new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1)), lines::add);
    }

    @Test
    void linesEndAtLineFeedsWithoutTheirCarriageReturns() throws IOException {
        assertTrue(read("one\r\ntwo\nthree"));
        assertEquals(List.of("one", "two", "three"), lines);
    }

    @Test
    void anOverlongLineIsCutAfterABreakSoAUrlStaysWhole() throws IOException {
        String url = "http://www.example.com/path";
        String filler = "x".repeat(TextLines.MAX_LINE - 10);
        read(filler + " " + url + " " + filler);
        assertTrue(lines.stream().allMatch(line -> line.length() <= TextLines.MAX_LINE));
        assertTrue(lines.stream().anyMatch(line -> line.contains(url)), "the URL was split: " + lines.size() + " pieces");
        assertEquals(2 * filler.length() + url.length() + 2, String.join("", lines).length());
    }

    @Test
    void readingStopsWhenTheConsumerSaysSo() throws IOException {
        assertFalse(TextLines.forEach(new ByteArrayInputStream("a\nb\nc\n".getBytes(StandardCharsets.US_ASCII)), line -> {
            lines.add(line);
            return !line.equals("b");
        }));
        assertEquals(List.of("a", "b"), lines);
    }
}
