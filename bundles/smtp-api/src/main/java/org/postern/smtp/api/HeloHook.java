package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code helo}: after HELO. DENY 550, DENYSOFT 450, *_DISCONNECT the same then close; otherwise 250. */
@ConsumerType
@FunctionalInterface
public interface HeloHook {
    HookResult onHelo(HeloContext ctx);
}
