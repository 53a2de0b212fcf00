package org.postern.smtp.api.monitor;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A daemon or peer a plugin depends on (spamd, clamd, a smarthost, Redis, a DNS server), registered as a service
 * by that plugin so that health checks can ask whether it answers. The plugin knows how to ask: a spamd PING, an
 * SMTP greeting, a DNS query.
 */
@ConsumerType
public interface PeerCheck {
    /** What is checked, for people: {@code spamd 127.0.0.1:783}. */
    String peer();

    /**
     * Asks the peer once, within {@code timeout}, without blocking the caller: completes with a short description
     * of its answer ({@code PONG}), or exceptionally with why it did not answer.
     */
    CompletionStage<String> probe(Duration timeout);
}
