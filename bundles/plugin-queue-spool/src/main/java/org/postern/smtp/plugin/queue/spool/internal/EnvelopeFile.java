package org.postern.smtp.plugin.queue.spool.internal;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.RecipientState;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.State;

/**
 * The text of an {@code <id>.env} file: one {@code key value} per line, UTF-8, readable with {@code cat}. A
 * {@code recipient} line starts a recipient; the {@code reply} and {@code remote-mta} lines after it are its own.
 *
 * <pre>
 * postern-queue 1
 * sender a@example.org
 * arrival 2025-01-02T03:04:05Z
 * helo mx.example.org
 * body UNKNOWN
 * size 1234
 * attempts 1
 * next-attempt 2025-01-02T03:09:05Z
 * recipient PENDING b@example.net
 * reply 451 4.4.1 Cannot connect to 192.0.2.25:25: Connection refused
 * </pre>
 */
final class EnvelopeFile {
    private static final String MAGIC = "postern-queue 1";

    private EnvelopeFile() {
    }

    static String format(QueuedMessage message) {
        StringBuilder text = new StringBuilder(MAGIC).append('\n');
        line(text, "sender", message.sender());
        line(text, "arrival", message.arrival().toString());
        line(text, "helo", message.heloName());
        line(text, "body", message.body().name());
        line(text, "size", Long.toString(message.size()));
        line(text, "attempts", Integer.toString(message.attempts()));
        line(text, "next-attempt", message.nextAttempt().toString());
        for (RecipientState recipient : message.recipients()) {
            line(text, "recipient", recipient.state().name() + " " + recipient.address());
            if (!recipient.lastReply().isEmpty()) {
                line(text, "reply", recipient.lastReply());
            }
            if (!recipient.remoteMta().isEmpty()) {
                line(text, "remote-mta", recipient.remoteMta());
            }
        }
        return text.toString();
    }

    /** A value on one line: a server's reply text could hold anything, and a line break in it would forge a key. */
    private static void line(StringBuilder text, String key, String value) {
        text.append(key).append(' ').append(value.replaceAll("\\p{Cntrl}", " ")).append('\n');
    }

    /** The message this text describes; {@link IllegalArgumentException} for text that is not a whole envelope file. */
    static QueuedMessage parse(String id, String text) {
        List<String> lines = text.lines().toList();
        if (lines.isEmpty() || !lines.get(0).equals(MAGIC)) {
            throw new IllegalArgumentException(id + ": not a queue envelope (first line is not '" + MAGIC + "')");
        }
        String sender = null;
        Instant arrival = null;
        String helo = "localhost";
        Envelope.Body body = Envelope.Body.UNKNOWN;
        long size = -1;
        int attempts = 0;
        Instant nextAttempt = null;
        List<RecipientState> recipients = new ArrayList<>();
        try {
            for (String line : lines.subList(1, lines.size())) {
                int space = line.indexOf(' ');
                String key = space < 0 ? line : line.substring(0, space);
                String value = space < 0 ? "" : line.substring(space + 1);
                switch (key) {
                    case "sender" -> sender = value;
                    case "arrival" -> arrival = Instant.parse(value);
                    case "helo" -> helo = value;
                    case "body" -> body = Envelope.Body.valueOf(value);
                    case "size" -> size = Long.parseLong(value);
                    case "attempts" -> attempts = Integer.parseInt(value);
                    case "next-attempt" -> nextAttempt = Instant.parse(value);
                    case "recipient" -> {
                        int split = value.indexOf(' ');
                        recipients.add(new RecipientState(value.substring(split + 1), State.valueOf(value.substring(0, split)), "", ""));
                    }
                    case "reply" -> recipients.set(recipients.size() - 1, withReply(last(recipients, id), value));
                    case "remote-mta" -> recipients.set(recipients.size() - 1, withRemoteMta(last(recipients, id), value));
                    default -> throw new IllegalArgumentException(id + ": unknown line '" + line + "'");
                }
            }
        } catch (DateTimeParseException | IndexOutOfBoundsException e) {
            throw new IllegalArgumentException(id + ": malformed envelope: " + e.getMessage(), e);
        }
        if (sender == null || arrival == null || size < 0 || nextAttempt == null || recipients.isEmpty()) {
            throw new IllegalArgumentException(id + ": envelope without sender, arrival, size, next-attempt or recipients");
        }
        return new QueuedMessage(id, sender, arrival, helo, body, size, attempts, nextAttempt, recipients);
    }

    private static RecipientState last(List<RecipientState> recipients, String id) {
        if (recipients.isEmpty()) {
            throw new IllegalArgumentException(id + ": reply before any recipient");
        }
        return recipients.get(recipients.size() - 1);
    }

    private static RecipientState withReply(RecipientState recipient, String reply) {
        return new RecipientState(recipient.address(), recipient.state(), reply, recipient.remoteMta());
    }

    private static RecipientState withRemoteMta(RecipientState recipient, String remoteMta) {
        return new RecipientState(recipient.address(), recipient.state(), recipient.lastReply(), remoteMta);
    }
}
