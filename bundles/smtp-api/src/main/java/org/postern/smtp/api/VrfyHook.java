package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code vrfy}: VRFY. OK = 250, DENY = 554, DONE = plugin answered; otherwise 252. */
@ConsumerType
@FunctionalInterface
public interface VrfyHook {
    HookResult onVrfy(CommandContext ctx);
}
