package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code ehlo}: after EHLO. DENY 550, DENYSOFT 450, *_DISCONNECT the same then close; otherwise 250 with the extensions. */
@ConsumerType
@FunctionalInterface
public interface EhloHook {
    HookResult onEhlo(HeloContext ctx);
}
