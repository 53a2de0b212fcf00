package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code ok}: a plugin returned something other than DENY*; results are ignored. */
@ConsumerType
@FunctionalInterface
public interface OkHook {
    HookResult onOk(ResultContext ctx);
}
