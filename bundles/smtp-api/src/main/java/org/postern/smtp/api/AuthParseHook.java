package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code auth_parse}: replaces the AUTH parser; OK with message lines = mechanism then the initial response; anything else = 501. */
@ConsumerType
@FunctionalInterface
public interface AuthParseHook {
    HookResult onAuthParse(ParseContext ctx);
}
