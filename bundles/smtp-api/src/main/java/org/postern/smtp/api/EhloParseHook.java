package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code ehlo_parse}: replaces the EHLO parser; OK with message lines = host then extra arguments; DENY = 501. */
@ConsumerType
@FunctionalInterface
public interface EhloParseHook {
    HookResult onEhloParse(ParseContext ctx);
}
