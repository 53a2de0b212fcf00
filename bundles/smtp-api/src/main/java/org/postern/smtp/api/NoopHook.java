package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code noop}: NOOP. DONE = plugin answered; DENY = 500, DENY_DISCONNECT = 500 + close; otherwise 250. */
@ConsumerType
@FunctionalInterface
public interface NoopHook {
    HookResult onNoop(CommandContext ctx);
}
