package org.postern.smtp.plugin.spamassassin.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeaderFoldingTest {
    /** The lines of a field as written: name, colon, space, value. */
    private static List<String> lines(String name, String value) {
        return List.of((name + ": " + HeaderFolding.fold(name, value)).split("\r\n", -1));
    }

    /** A value with its folding undone (RFC 5322 3.2.2: CRLF before white space removed). */
    private static String unfolded(String value) {
        return value.replaceAll("\r\n(?=[ \t])", "");
    }

    private static String tests(int count) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            names.add("POSTERN_TEST_RULE_" + i);
        }
        return String.join(",", names);
    }

    @Test
    void shortValuesAndSpamAssassinsOwnFoldingAreLeftAsTheyAre() {
        assertEquals("YES", HeaderFolding.fold("X-Spam-Flag", "YES"));
        assertEquals("", HeaderFolding.fold("X-Spam-Level", ""));
        String folded = "Yes, score=1004.2 required=5.0 tests=GTUBE,MISSING_DATE,\r\n\tMISSING_HEADERS autolearn=no";
        assertEquals(folded, HeaderFolding.fold("X-Spam-Status", folded));
    }

    @Test
    void aLongListOfTestsIsFoldedAfterCommasIntoLinesOfAtMost78() {
        String value = "Yes, score=99.0 required=5.0 tests=" + tests(120) + " autolearn=no version=4.0.1";
        List<String> lines = lines("X-Spam-Status", value);
        assertTrue(lines.size() > 30, lines.toString());
        lines.forEach(line -> assertTrue(line.length() <= 78, line));
        lines.subList(1, lines.size()).forEach(line -> assertTrue(line.startsWith("\t") || line.startsWith(" "), line));
        // folding only added white space after commas, as SpamAssassin does
        assertEquals(value, unfolded(HeaderFolding.fold("X-Spam-Status", value)).replaceAll(",\t", ","));
    }

    @Test
    void breaksBeforeWhiteSpaceKeepIt() {
        String value = "word ".repeat(40).strip();
        assertEquals(value, unfolded(HeaderFolding.fold("Subject", value)));
        lines("Subject", value).forEach(line -> assertTrue(line.length() <= 78, line));
    }

    @Test
    void aWordLongerThanALineGetsALineOfItsOwn() {
        String word = "x".repeat(300);
        List<String> lines = lines("Subject", "*** SPAM *** " + word + " end");
        assertEquals(List.of("Subject: *** SPAM ***", " " + word, " end"), lines);
    }

    @Test
    void noLinePasses998EvenWithoutABreak() {
        String word = "y".repeat(2500);
        List<String> lines = lines("X-Old-Spam-Status", word);
        assertEquals(3, lines.size());
        lines.forEach(line -> assertTrue(line.length() <= 998, line.length() + " characters"));
        assertEquals(word, String.join("", lines).replaceFirst("^X-Old-Spam-Status: ", "").replace("\t", ""));
    }
}
