package org.postern.smtp.client;

import java.util.List;
import java.util.Objects;

/**
 * What became of one message: the stage the exchange ended at, the reply that decided it, and each recipient's
 * own result in the envelope's order.
 *
 * <p>{@link #reply()} is, when every recipient got the message, the server's reply to the final dot (LMTP: the
 * first recipient's). Otherwise it is the reply behind the failure: the first temporary one among the recipients
 * that did not get the message, as those may still get it, else the first permanent one; before any recipient was
 * looked at, the reply that stopped the exchange, the client's own failures included.
 *
 * @param stage where the exchange ended; {@link Stage#END_OF_DATA} when the message was sent
 * @param reply the reply that decided the outcome
 * @param recipients one result per envelope recipient, in order
 */
public record Delivery(Stage stage, Reply reply, List<RecipientResult> recipients) {
    public Delivery {
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(reply, "reply");
        recipients = List.copyOf(recipients);
    }

    /** What the sender of the message is to do about it. */
    public enum Outcome {
        /** Nothing: every recipient got it. */
        DELIVERED,
        /**
         * Send it again later to those that did not get it: the failure is temporary for at least one of them, or
         * the connection could not be set up (whatever the server replied then, it was not about the message).
         */
        RETRY,
        /** Give up (bounce): every failure was permanent. */
        FAILED
    }

    /** The steps of an exchange, in order: where one ended. */
    public enum Stage {
        CONNECT, GREETING, HELLO, STARTTLS, AUTH, XCLIENT, MAIL, RCPT, DATA, END_OF_DATA;

        /**
         * Whether this stage sets the connection up rather than carries the message: what goes wrong there is a
         * matter of the client and the server, not of the message.
         */
        public boolean isSetup() {
            return compareTo(MAIL) < 0;
        }
    }

    /**
     * One recipient's result.
     *
     * @param recipient the address, as in the envelope
     * @param reply the server's reply after the final dot for it (LMTP: its own reply); else its RCPT's reply when
     *     that was a refusal, or when the refusal of others kept the message from all ({@link Envelope#allRecipients()});
     *     else the failure that stopped the exchange
     * @param delivered whether the server took the message for it
     */
    public record RecipientResult(String recipient, Reply reply, boolean delivered) {
        public RecipientResult {
            Objects.requireNonNull(recipient, "recipient");
            Objects.requireNonNull(reply, "reply");
        }
    }

    /** DELIVERED, RETRY or FAILED, from {@link #reply()} and the stage. */
    public Outcome outcome() {
        if (isDeliveredToAll()) {
            return Outcome.DELIVERED;
        }
        return stage.isSetup() || !reply.isPermanentFailure() ? Outcome.RETRY : Outcome.FAILED;
    }

    /**
     * For log lines and failure texts: {@link #reply()} when it is all there is to say (all recipients got the
     * message, or none did and all got that reply), else each refused recipient with its own reply:
     * {@code <b@example.org>: 550 5.1.1 User unknown; <c@example.org>: 452 4.2.2 Mailbox full}.
     */
    public String summary() {
        List<RecipientResult> refused = recipients.stream().filter(r -> !r.delivered() && !r.reply().isPositive()).toList();
        if (isDeliveredToAll() || delivered().isEmpty() && refused.size() == recipients.size()
                && refused.stream().allMatch(r -> r.reply().equals(reply))) {
            return reply.toString();
        }
        return String.join("; ", refused.stream().map(r -> "<" + r.recipient() + ">: " + r.reply()).toList());
    }

    /** Whether the server took the message for every recipient. */
    public boolean isDeliveredToAll() {
        return recipients.stream().allMatch(RecipientResult::delivered);
    }

    /** The recipients the server took the message for. */
    public List<RecipientResult> delivered() {
        return recipients.stream().filter(RecipientResult::delivered).toList();
    }

    /** The recipients it did not take the message for. */
    public List<RecipientResult> undelivered() {
        return recipients.stream().filter(r -> !r.delivered()).toList();
    }
}
