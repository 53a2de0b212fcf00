package org.postern.smtp.client;

import java.util.List;
import java.util.Objects;

/**
 * One reply: its code, its RFC 3463 enhanced status code (empty when there is none) and its text lines without
 * either. Replies the client makes up itself, for a failure it ran into (a timeout, a lost connection, a message
 * over the server's SIZE), have the same shape; {@link Delivery#stage()} tells where they happened.
 */
public record Reply(int code, String enhancedStatus, List<String> lines) {
    public Reply {
        if (code < 200 || code > 599) {
            throw new IllegalArgumentException("not a reply code for a command: " + code);
        }
        Objects.requireNonNull(enhancedStatus, "enhancedStatus");
        lines = List.copyOf(lines);
    }

    /** A one-line reply. */
    public static Reply of(int code, String enhancedStatus, String text) {
        return new Reply(code, enhancedStatus, List.of(text));
    }

    /** 2xx. */
    public boolean isPositive() {
        return code < 300;
    }

    /** 4xx: the same may succeed later. */
    public boolean isTransientFailure() {
        return code >= 400 && code < 500;
    }

    /** 5xx: the same will fail again. */
    public boolean isPermanentFailure() {
        return code >= 500;
    }

    /**
     * This reply as a temporary failure, to pass a failure on as one: a 4xx reply stays as it is, anything else
     * becomes 451 with the enhanced code's class made 4. So does 421, which would close the connection it is sent
     * on: what failed was one message, not that connection.
     */
    public Reply asTransientFailure() {
        if (isTransientFailure() && code != 421) {
            return this;
        }
        return new Reply(451, enhancedStatus.isEmpty() ? "" : "4" + enhancedStatus.substring(1), lines);
    }

    /** The lines joined with spaces. */
    public String text() {
        return String.join(" ", lines);
    }

    @Override
    public String toString() {
        return code + (enhancedStatus.isEmpty() ? "" : " " + enhancedStatus) + (lines.isEmpty() ? "" : " " + text());
    }
}
