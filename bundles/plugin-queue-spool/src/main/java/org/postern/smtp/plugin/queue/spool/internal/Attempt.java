package org.postern.smtp.plugin.queue.spool.internal;

import java.util.List;
import org.postern.smtp.client.Delivery;
import org.postern.smtp.client.Reply;

/**
 * What one delivery to one destination did for each of its recipients.
 *
 * @param results one per recipient, in the envelope's order
 * @param destinationFailed whether the destination itself failed (no connection, or it would not take a
 *     transaction: greeting, EHLO, STARTTLS, AUTH, DNS), so that other messages wait for it too
 */
record Attempt(List<Result> results, boolean destinationFailed) {
    Attempt {
        results = List.copyOf(results);
    }

    /** What becomes of a recipient. */
    enum Fate {
        DELIVERED,
        /** A permanent refusal: bounced now. */
        FAILED,
        /** A temporary one: tried again later. */
        DEFERRED
    }

    /**
     * @param reply the reply about the recipient, as {@code 550 5.1.1 text}
     * @param remoteMta the server that gave it, typed as in a DSN's Remote-MTA ({@code dns; mx.example.org}); empty
     *     when no server answered
     */
    record Result(String recipient, Fate fate, String reply, String remoteMta) {
    }

    /**
     * The client's delivery in these terms: a recipient the server took is delivered; a permanent refusal of it (or
     * of the message) bounces it, unless the refusal came while the connection was set up, which says nothing of the
     * message (a 554 greeting, a 535 to AUTH): that, and every temporary failure, is tried again.
     */
    static Attempt of(Delivery delivery, String remoteMta) {
        boolean setup = delivery.stage().isSetup();
        String answeredBy = delivery.stage() == Delivery.Stage.CONNECT ? "" : remoteMta;
        return new Attempt(delivery.recipients().stream().map(recipient -> new Result(recipient.recipient(),
                recipient.delivered() ? Fate.DELIVERED : !setup && recipient.reply().isPermanentFailure() ? Fate.FAILED : Fate.DEFERRED,
                recipient.reply().toString(), answeredBy)).toList(), setup);
    }

    /** Every recipient tried again later, for a failure of ours or of the DNS, before any server answered. */
    static Attempt deferred(List<String> recipients, Reply reply) {
        return new Attempt(recipients.stream().map(recipient -> new Result(recipient, Fate.DEFERRED, reply.toString(), "")).toList(), true);
    }

    /** Every recipient bounced, for a reason known before any server answered (a null MX, no such domain). */
    static Attempt failed(List<String> recipients, Reply reply) {
        return new Attempt(recipients.stream().map(recipient -> new Result(recipient, Fate.FAILED, reply.toString(), "")).toList(), false);
    }
}
