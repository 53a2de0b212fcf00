package org.postern.smtp.api.monitor;

import java.time.Duration;
import java.util.List;

/**
 * One mail transaction as it ended: what the core writes as the transaction's log line.
 *
 * @param id the transaction's id, {@code <session id>.<n>}, as in the Received line and in logs
 * @param listener the listener the client connected to
 * @param client the client's IP address
 * @param sender the envelope sender, in SMTP form ({@code <>} for a bounce)
 * @param recipients the accepted recipients, in SMTP form
 * @param size the message's size in octets, 0 when no message was received
 * @param outcome how it ended
 * @param reply the reply that ended it, empty when none did (the client left or reset)
 * @param length from the accepted MAIL to the end
 */
public record TransactionRecord(String id, String listener, String client, String sender, List<String> recipients,
        long size, Outcome outcome, String reply, Duration length) {

    public TransactionRecord {
        recipients = List.copyOf(recipients);
    }

    /** How a transaction ended. */
    public enum Outcome {
        /** A queue plugin took the message and the client got a 2xx. */
        QUEUED,
        /** A plugin or a limit refused the message, or a queue plugin did not take it: the client got a 4xx or 5xx. */
        REFUSED,
        /** The client reset, started over, quit or left before a message was accepted or refused. */
        ABANDONED
    }

    /**
     * The one line a person greps for: {@code key=value} pairs in a fixed order, values with spaces quoted.
     */
    public String logLine() {
        return "id=" + id + " listener=" + listener + " client=" + client + " from=" + sender
                + " to=" + (recipients.isEmpty() ? "-" : String.join(",", recipients)) + " recipients=" + recipients.size()
                + " size=" + size + " result=" + outcome.name().toLowerCase(java.util.Locale.ROOT)
                + " reply=\"" + reply.replace("\\", "\\\\").replace("\"", "\\\"") + "\" time=" + length.toMillis() + "ms";
    }
}
