package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code quit}: after QUIT; DONE means the plugin gave the reply, otherwise 221. The connection closes either way. */
@ConsumerType
@FunctionalInterface
public interface QuitHook {
    HookResult onQuit(HookContext ctx);
}
