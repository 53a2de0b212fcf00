package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code help}: HELP. DONE = plugin answered; DENY = 500; otherwise 214 with the message lines (or the default help). */
@ConsumerType
@FunctionalInterface
public interface HelpHook {
    HookResult onHelp(CommandContext ctx);
}
