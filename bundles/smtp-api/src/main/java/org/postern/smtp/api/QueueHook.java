package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code queue}: hands the message to a backend. OK answers 250 (the message must be durable by then); DENY 552, DENYSOFT 452; if nobody says OK, 451. */
@ConsumerType
@FunctionalInterface
public interface QueueHook {
    HookResult onQueue(HookContext ctx);
}
