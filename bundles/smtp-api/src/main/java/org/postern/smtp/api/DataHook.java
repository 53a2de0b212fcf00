package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code data}: after DATA, before the message. DENY 554, DENYSOFT 451, DENY_DISCONNECT 554 + close, DENYSOFT_DISCONNECT 421 + close; otherwise 354. */
@ConsumerType
@FunctionalInterface
public interface DataHook {
    HookResult onData(HookContext ctx);
}
