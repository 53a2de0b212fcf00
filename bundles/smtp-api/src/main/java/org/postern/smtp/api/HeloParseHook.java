package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code helo_parse}: replaces the HELO parser; OK with message lines = host then extra arguments; DENY = 501. */
@ConsumerType
@FunctionalInterface
public interface HeloParseHook {
    HookResult onHeloParse(ParseContext ctx);
}
