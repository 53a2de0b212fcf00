package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hooks {@code auth} and {@code auth-<mechanism>} (plain, login, cram-md5): check credentials. OK = 235, DENY = 535, DENYSOFT = 454. */
@ConsumerType
@FunctionalInterface
public interface AuthHook {
    HookResult onAuth(AuthContext ctx);
}
