package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code config}: a config item is asked for; OK with the values as message lines answers it, DECLINED passes. */
@ConsumerType
@FunctionalInterface
public interface ConfigHook {
    HookResult onConfig(ConfigContext ctx);
}
