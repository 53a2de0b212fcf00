package org.postern.smtp.plugin.spamassassin.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postern.smtp.api.HeaderField;

/**
 * spamd's answer to a HEADERS request (the SPAMC/SPAMD protocol, 1.3 and later): {@code SPAMD/1.1 0 EX_OK}, a
 * Content-length and a {@code Spam: True ; 6.2 / 5.0} line, a blank line, then the message's header as SpamAssassin
 * rewrote it. Of that header only the X-Spam fields are kept, as qpsmtpd keeps them, in SpamAssassin's order, without
 * X-Spam-Report and X-Spam-Prev-Subject (qpsmtpd leaves those out).
 */
record SpamdAnswer(boolean spam, double score, double required, List<HeaderField> fields) {
    private static final Pattern STATUS = Pattern.compile("SPAMD/\\d+\\.\\d+ +(\\d+) +(.*)");
    private static final Pattern SPAM = Pattern.compile("(True|False|Yes|No) *; *(-?[\\d.]+) */ *(-?[\\d.]+)", Pattern.CASE_INSENSITIVE);
    private static final Pattern CONTENT_LENGTH = Pattern.compile("\\d{1,10}");
    private static final List<String> LEFT_OUT = List.of("x-spam-report", "x-spam-prev-subject");

    /** An answer that is not a successful one: an error code (EX_TEMPFAIL, EX_PROTOCOL …), or not spamd's protocol. */
    static final class Failure extends IOException {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message);
        }
    }

    /** Parses a whole answer, as read until spamd closed the connection. */
    static SpamdAnswer parse(String answer) throws Failure {
        int firstLineEnd = answer.indexOf("\r\n");
        String first = firstLineEnd < 0 ? answer : answer.substring(0, firstLineEnd);
        Matcher status = STATUS.matcher(first);
        if (!status.matches()) {
            throw new Failure(answer.isEmpty() ? "spamd closed the connection without an answer" : "not a spamd answer: " + shown(first));
        }
        if (!status.group(1).equals("0")) {
            throw new Failure("spamd answered " + shown(first));
        }
        int headEnd = answer.indexOf("\r\n\r\n");
        if (headEnd < 0) {
            throw new Failure("spamd's answer ends before its blank line");
        }
        Matcher spam = null;
        String contentLength = null;
        for (String line : answer.substring(firstLineEnd + 2, headEnd).split("\r\n")) {
            int colon = line.indexOf(':');
            String name = colon < 0 ? "" : line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = colon < 0 ? "" : line.substring(colon + 1).strip();
            if (name.equals("spam")) {
                spam = SPAM.matcher(value);
                if (!spam.matches()) {
                    throw new Failure("spamd's Spam line is not 'flag ; score / required': " + shown(line));
                }
            } else if (name.equals("content-length")) {
                contentLength = value;
            }
        }
        if (spam == null) {
            throw new Failure("spamd's answer has no Spam line (is it older than protocol 1.3?)");
        }
        String header = answer.substring(headEnd + 4);
        if (contentLength != null && !(CONTENT_LENGTH.matcher(contentLength).matches() && Long.parseLong(contentLength) == header.length())) {
            throw new Failure("spamd's answer has " + header.length() + " octets after its blank line, its Content-length says " + shown(contentLength));
        }
        String flag = spam.group(1).toLowerCase(Locale.ROOT);
        try {
            return new SpamdAnswer(flag.equals("true") || flag.equals("yes"), Double.parseDouble(spam.group(2)),
                    Double.parseDouble(spam.group(3)), spamFields(header));
        } catch (IllegalArgumentException e) {
            throw new Failure("spamd's answer cannot be read: " + e.getMessage());
        }
    }

    /** The X-Spam fields of a header section (up to its blank line), continuation lines kept with their CRLF. */
    private static List<HeaderField> spamFields(String header) {
        List<HeaderField> fields = new ArrayList<>();
        String name = null;
        StringBuilder value = new StringBuilder();
        for (String line : (header + "\r\n").split("\r?\n", -1)) {
            if (name != null && (line.startsWith(" ") || line.startsWith("\t"))) {
                value.append("\r\n").append(line);
                continue;
            }
            if (name != null && name.regionMatches(true, 0, "X-Spam-", 0, 7) && !LEFT_OUT.contains(name.toLowerCase(Locale.ROOT))) {
                fields.add(new HeaderField(name, value.toString().stripLeading()));
            }
            if (line.isEmpty()) {
                break;
            }
            int colon = line.indexOf(':');
            name = colon > 0 ? line.substring(0, colon).strip() : null;
            value.setLength(0);
            value.append(colon > 0 ? line.substring(colon + 1) : "");
        }
        return fields;
    }

    /** A line of spamd's for a log line: at most 200 characters, control characters shown as '?'. */
    private static String shown(String line) {
        String printable = line.replaceAll("[\\x00-\\x1f\\x7f]", "?");
        return printable.length() > 200 ? printable.substring(0, 200) + "…" : printable;
    }

    /**
     * qpsmtpd's {@code spamassassin} note: the fields of X-Spam-Status ({@code is_spam}, {@code score},
     * {@code required}, {@code tests}, {@code autolearn}, {@code version}, … whatever SpamAssassin's configuration puts
     * there), with is_spam, score and required from spamd's Spam line where X-Spam-Status lacks them. The tests are
     * joined again where SpamAssassin folded their list.
     */
    Map<String, String> note() {
        Map<String, String> note = new LinkedHashMap<>();
        fields.stream().filter(field -> field.name().equalsIgnoreCase("X-Spam-Status")).findFirst().ifPresent(status -> {
            String[] flagAndRest = status.unfoldedValue().split("\\s+", 2);
            note.put("is_spam", flagAndRest[0].replaceAll(",$", ""));
            String rest = flagAndRest.length < 2 ? "" : flagAndRest[1].replaceAll(",\\s+", ",");
            for (String word : rest.split("\\s+")) {
                int equals = word.indexOf('=');
                if (equals > 0) {
                    note.put(word.substring(0, equals), word.substring(equals + 1));
                }
            }
        });
        // SpamAssassin 2 called the score hits; qpsmtpd reads either
        if (!note.containsKey("score") && note.containsKey("hits")) {
            note.put("score", note.remove("hits"));
        }
        note.putIfAbsent("is_spam", spam ? "Yes" : "No");
        note.putIfAbsent("score", String.format(Locale.ROOT, "%.1f", score));
        note.putIfAbsent("required", String.format(Locale.ROOT, "%.1f", required));
        return Collections.unmodifiableMap(note);
    }
}
