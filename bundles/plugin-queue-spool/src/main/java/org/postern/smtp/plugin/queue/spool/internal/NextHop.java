package org.postern.smtp.plugin.queue.spool.internal;

import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.client.MessageSource;

/** Where queued messages go: a smarthost, an LMTP server, or each recipient domain's MX hosts. */
interface NextHop {
    /**
     * The destination of a recipient: recipients with the same destination share one transaction, and a
     * destination that failed is not tried again before its backoff ends.
     */
    String destinationOf(String recipient);

    /**
     * Delivers the message to the envelope's recipients, which all have this destination. Never completes
     * exceptionally: every failure is a result for the recipients.
     */
    CompletionStage<Attempt> deliver(String destination, Envelope envelope, MessageSource message, String heloName, BooleanSupplier commit);
}
