package org.postern.smtp.plugin.rspamd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class FieldValuesTest {
    @Test
    void scoresArePrintedAsHarakaPrintsThem() {
        assertEquals("7", FieldValues.score(7.0));
        assertEquals("1.5", FieldValues.score(1.5));
        assertEquals("-0.1", FieldValues.score(-0.1));
        assertEquals("0", FieldValues.score(0.0));
    }

    @Test
    void theBarHasOneSignPerWholePointAndStopsAtFifty() {
        assertEquals("+++++++", FieldValues.bar(7.9, "+", "-", "/"));
        assertEquals("--", FieldValues.bar(-2.5, "+", "-", "/"));
        assertEquals("/", FieldValues.bar(0.9, "+", "-", "/"));
        assertEquals("/", FieldValues.bar(-0.9, "+", "-", "/"));
        assertEquals("*".repeat(FieldValues.MAX_BAR), FieldValues.bar(1000, "*", "-", "/"));
    }

    @Test
    void theReportListsSymbolsThatScoredFoldedWithinTheLine() {
        Map<String, Double> symbols = new LinkedHashMap<>();
        symbols.put("GTUBE", 0.0);
        for (int i = 0; i < 12; i++) {
            symbols.put("SYMBOL_NUMBER_" + i, i + 0.5);
        }
        String report = FieldValues.report("X-Rspamd-Report", symbols);
        assertTrue(report.startsWith("SYMBOL_NUMBER_0(0.5) SYMBOL_NUMBER_1(1.5)\r\n\tSYMBOL_NUMBER_2(2.5) "), report);
        assertTrue(!report.contains("GTUBE"), report);
        String[] lines = ("X-Rspamd-Report: " + report).split("\r\n");
        assertTrue(lines.length > 1, report);
        for (String line : lines) {
            assertTrue(line.length() <= 78, line);
        }
        assertEquals(12, report.split("\\s+").length);
    }

    @Test
    void rspamdsLineBreaksBecomeCrlf() {
        assertEquals("v=1; a=rsa-sha256;\r\n\tb=abc;\r\n\tc=d", FieldValues.fromRspamd("v=1; a=rsa-sha256;\n\tb=abc;\r\n\tc=d"));
    }

    @Test
    void textThatIsNotAsciiBecomesEncodedWordsThatDecodeBackWhole() {
        String subject = "***SPAM*** Grüße aus Köln, " + "ünd noch viel mehr Text ".repeat(4);
        String encoded = FieldValues.fromRspamd(subject);
        assertTrue(encoded.chars().allMatch(c -> c < 128), encoded);
        StringBuilder decoded = new StringBuilder();
        Matcher word = Pattern.compile("=\\?UTF-8\\?B\\?([A-Za-z0-9+/=]+)\\?=").matcher(encoded);
        while (word.find()) {
            assertTrue(word.group().length() <= 75, word.group());
            decoded.append(new String(Base64.getDecoder().decode(word.group(1)), StandardCharsets.UTF_8));
        }
        assertEquals(subject, decoded.toString());
        assertEquals("ascii stays", FieldValues.fromRspamd("ascii stays"));
    }
}
