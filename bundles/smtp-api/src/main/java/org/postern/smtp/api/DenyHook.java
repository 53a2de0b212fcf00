package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code deny}: a plugin returned DENY*; results are ignored. */
@ConsumerType
@FunctionalInterface
public interface DenyHook {
    HookResult onDeny(ResultContext ctx);
}
