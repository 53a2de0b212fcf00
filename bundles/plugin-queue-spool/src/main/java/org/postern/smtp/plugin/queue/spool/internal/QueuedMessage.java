package org.postern.smtp.plugin.queue.spool.internal;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.postern.smtp.client.Envelope;

/**
 * A queued message's envelope and delivery state, as its {@code <id>.env} file holds it. Immutable: the engine
 * makes a new one for each change and the spool writes it to disk.
 *
 * @param id the queue id, also the name of its files
 * @param sender the reverse path; empty for the null sender of a bounce
 * @param arrival when the message was queued
 * @param heloName the name the server had ({@code me}) when it took the message: its EHLO name on delivery
 * @param body the message's body type as the client declared it
 * @param size the size of its content file in octets
 * @param attempts delivery attempts that left some recipient pending
 * @param nextAttempt when the message is to be tried again
 * @param recipients each recipient and its state, in the order they were given
 */
record QueuedMessage(String id, String sender, Instant arrival, String heloName, Envelope.Body body, long size, int attempts,
        Instant nextAttempt, List<RecipientState> recipients) {
    QueuedMessage {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(arrival, "arrival");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(nextAttempt, "nextAttempt");
        recipients = List.copyOf(recipients);
    }

    /** What became of a recipient so far. */
    enum State {
        PENDING, DELIVERED, FAILED
    }

    /**
     * One recipient.
     *
     * @param lastReply the last reply about it (a server's, or the client's own for a failure before one answered),
     *     as {@code 451 4.4.1 text}; empty before the first attempt
     * @param remoteMta the server that gave that reply; empty when none did
     */
    record RecipientState(String address, State state, String lastReply, String remoteMta) {
        RecipientState {
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(state, "state");
            Objects.requireNonNull(lastReply, "lastReply");
            Objects.requireNonNull(remoteMta, "remoteMta");
        }

        static RecipientState pending(String address) {
            return new RecipientState(address, State.PENDING, "", "");
        }
    }

    boolean isBounce() {
        return sender.isEmpty();
    }

    List<RecipientState> pending() {
        return recipients.stream().filter(recipient -> recipient.state() == State.PENDING).toList();
    }

    QueuedMessage withRecipients(List<RecipientState> newRecipients) {
        return new QueuedMessage(id, sender, arrival, heloName, body, size, attempts, nextAttempt, newRecipients);
    }

    QueuedMessage withSchedule(int newAttempts, Instant newNextAttempt) {
        return new QueuedMessage(id, sender, arrival, heloName, body, size, newAttempts, newNextAttempt, recipients);
    }
}
