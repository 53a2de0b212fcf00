package org.postern.smtp.client.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postern.smtp.client.Reply;

/** Assembles reply lines ({@code 250-first}, {@code 250 last}) into {@link Reply}s, strictly. */
final class ReplyParser {
    /** A reply longer than this is not a mail server talking. */
    static final int MAX_LINES = 200;
    private static final Pattern LINE = Pattern.compile("([2-5][0-9][0-9])([ -]|$)(.*)", Pattern.DOTALL);
    private static final Pattern ENHANCED = Pattern.compile("([245])\\.(\\d{1,3})\\.(\\d{1,3})(?: (.*)|$)", Pattern.DOTALL);

    private final List<String> lines = new ArrayList<>();
    private int code;
    private String enhanced = "";

    /** Takes one line (without its CRLF); returns the reply it completes, or null when more lines follow. */
    Reply accept(String line) throws ProtocolException {
        Matcher matcher = LINE.matcher(line);
        if (!matcher.matches()) {
            throw new ProtocolException("not a reply line: '" + abbreviate(line) + "'");
        }
        int lineCode = Integer.parseInt(matcher.group(1));
        if (!lines.isEmpty() && lineCode != code) {
            throw new ProtocolException("reply code changed from " + code + " to " + lineCode + " within one reply");
        }
        if (lines.size() >= MAX_LINES) {
            throw new ProtocolException("a reply of more than " + MAX_LINES + " lines");
        }
        code = lineCode;
        String text = matcher.group(3);
        Matcher status = ENHANCED.matcher(text);
        // RFC 2034: each line of a reply carries the code; only one of the reply's own class counts
        if (status.matches() && status.group(1).charAt(0) == matcher.group(1).charAt(0)) {
            if (lines.isEmpty()) {
                enhanced = status.group(1) + "." + status.group(2) + "." + status.group(3);
            }
            text = status.group(4) == null ? "" : status.group(4);
        }
        lines.add(text);
        if (matcher.group(2).equals("-")) {
            return null;
        }
        Reply reply = new Reply(code, enhanced, lines);
        lines.clear();
        enhanced = "";
        return reply;
    }

    /** Whether part of a reply has been read. */
    boolean inReply() {
        return !lines.isEmpty();
    }

    static String abbreviate(String text) {
        return text.length() > 80 ? text.substring(0, 80) + "…" : text;
    }
}
