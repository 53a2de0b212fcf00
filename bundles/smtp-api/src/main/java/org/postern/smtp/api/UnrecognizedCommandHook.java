package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code unrecognized_command}: an unknown verb. DONE when the plugin implemented it; DENY 500; DENY_DISCONNECT 521 + close; otherwise 500. */
@ConsumerType
@FunctionalInterface
public interface UnrecognizedCommandHook {
    HookResult onUnrecognizedCommand(CommandContext ctx);
}
