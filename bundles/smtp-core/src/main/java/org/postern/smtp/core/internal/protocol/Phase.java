package org.postern.smtp.core.internal.protocol;

/**
 * Where a session stands, which says what the client's next line means. Whether a command is still waiting
 * for its plugins is not a phase: {@link SmtpSession#busy()} holds the next line back in every phase.
 */
sealed interface Phase {
    Phase COMMANDS = new Commands();
    Phase SKIPPING_MALFORMED_LINE = new SkippingMalformedLine();
    Phase CLOSING = new Closing();
    Phase CLOSED = new Closed();

    /** Each line is a command. */
    record Commands() implements Phase {
    }

    /**
     * A command line's first part ended in a bare LF: the rest, up to the CRLF that really ends it, is read
     * and dropped, then the line gets one 500 (RFC 5321 2.3.8: one line never becomes two commands).
     */
    record SkippingMalformedLine() implements Phase {
    }

    /** In an AUTH exchange: the line answers the server's challenge. */
    record Authenticating(SaslExchange exchange) implements Phase {
    }

    /** Between 354 and the final dot: each line is the message's (or, once refused, read and dropped). */
    record ReceivingData(MessageReceiver message) implements Phase {
    }

    /** The server is ending the session: its last hooks still run, and no line is read any more. */
    record Closing() implements Phase {
    }

    /** The connection is closed or gone. */
    record Closed() implements Phase {
    }
}
