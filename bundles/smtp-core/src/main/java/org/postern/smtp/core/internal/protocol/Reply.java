package org.postern.smtp.core.internal.protocol;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One SMTP reply: a code, an optional RFC 3463 enhanced status code (repeated on every line), and its lines.
 */
public record Reply(int code, String enhancedStatus, List<String> lines) {
    public Reply {
        lines = lines.isEmpty() ? List.of("") : List.copyOf(lines);
    }

    public static Reply of(int code, String enhancedStatus, String... lines) {
        return new Reply(code, enhancedStatus, List.of(lines));
    }

    /** The wire form: {@code 250-first} lines and a final {@code 250 last}, each ending in CRLF. */
    public byte[] encode() {
        StringBuilder wire = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            wire.append(code).append(i == lines.size() - 1 ? ' ' : '-');
            if (enhancedStatus != null) {
                wire.append(enhancedStatus).append(' ');
            }
            wire.append(lines.get(i).replaceAll("[\r\n]", " ")).append("\r\n");
        }
        return wire.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The code, the enhanced status and the first line of text, for a log line. */
    public String firstLine() {
        return code + (enhancedStatus == null ? "" : " " + enhancedStatus) + " " + lines.get(0);
    }

    @Override
    public String toString() {
        return new String(encode(), StandardCharsets.UTF_8).trim();
    }
}
