package org.postern.smtp.plugin.rspamd.internal;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The values of the header fields this plugin writes, in the forms Haraka's rspamd plugin gives them. */
final class FieldValues {
    /** RFC 5322's recommended line length, within which the report is folded. */
    private static final int LINE = 78;
    /** A spam bar longer than this says nothing more, and would pass the line length. */
    static final int MAX_BAR = 50;

    private FieldValues() {
    }

    /** A score as JavaScript prints a number: {@code 7}, {@code 1.5}, {@code -0.1}. */
    static String score(double score) {
        return BigDecimal.valueOf(score).stripTrailingZeros().toPlainString();
    }

    /** One {@code positive} per whole point, one {@code negative} per whole point below zero, or {@code neutral}. */
    static String bar(double score, String positive, String negative, String neutral) {
        if (score >= 1) {
            return positive.repeat((int) Math.min(MAX_BAR, Math.floor(score)));
        }
        if (score <= -1) {
            return negative.repeat((int) Math.min(MAX_BAR, Math.floor(-score)));
        }
        return neutral;
    }

    /** The symbols that scored, {@code NAME(score)}, folded between symbols to keep lines within 78 characters. */
    static String report(String fieldName, Map<String, Double> symbols) {
        List<String> scored = symbols.entrySet().stream().filter(symbol -> symbol.getValue() != 0)
                .map(symbol -> symbol.getKey() + "(" + score(symbol.getValue()) + ")").toList();
        StringBuilder value = new StringBuilder();
        int used = fieldName.length() + 2;
        for (String symbol : scored) {
            if (value.length() > 0) {
                boolean fits = used + 1 + symbol.length() <= LINE;
                value.append(fits ? " " : "\r\n\t");
                used = fits ? used + 1 : 1;
            }
            value.append(symbol);
            used += symbol.length();
        }
        return value.toString();
    }

    /**
     * A value from rspamd as a field value: its line breaks made CRLF (rspamd folds with either), and text that is not
     * ASCII (rspamd gives a rewritten subject decoded) as RFC 2047 encoded words, since a header is ASCII.
     */
    static String fromRspamd(String value) {
        String crlf = value.replaceAll("\r?\n", "\r\n");
        return crlf.chars().allMatch(c -> c < 128) ? crlf : encodedWords(crlf.replaceAll("\r\n[ \t]", " "));
    }

    /** UTF-8 base64 encoded words of at most 45 octets of text each (60 characters of base64), one per line. */
    private static String encodedWords(String text) {
        StringBuilder chunk = new StringBuilder();
        List<String> words = new ArrayList<>();
        text.codePoints().forEach(codePoint -> {
            String next = new String(Character.toChars(codePoint));
            if (utf8Length(chunk) + utf8Length(next) > 45) {
                words.add(encodedWord(chunk));
                chunk.setLength(0);
            }
            chunk.append(next);
        });
        if (chunk.length() > 0) {
            words.add(encodedWord(chunk));
        }
        return words.stream().collect(Collectors.joining("\r\n "));
    }

    private static String encodedWord(CharSequence text) {
        return "=?UTF-8?B?" + Base64.getEncoder().encodeToString(text.toString().getBytes(StandardCharsets.UTF_8)) + "?=";
    }

    private static int utf8Length(CharSequence text) {
        return text.toString().getBytes(StandardCharsets.UTF_8).length;
    }
}
