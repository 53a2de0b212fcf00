package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code user_config}: a per-recipient config item is asked for; OK with the values answers it. */
@ConsumerType
@FunctionalInterface
public interface UserConfigHook {
    HookResult onUserConfig(UserConfigContext ctx);
}
