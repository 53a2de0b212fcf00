package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code connect}: before the greeting. OK/DECLINED greet with 220; DENY* answers 550 and DENYSOFT* 450, then disconnect. */
@ConsumerType
@FunctionalInterface
public interface ConnectHook {
    HookResult onConnect(HookContext ctx);
}
