package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code rcpt_parse}: replaces the RCPT parser; OK with message lines = address then {@code KEY=value} parameters; anything else = 501 with the first line as text. */
@ConsumerType
@FunctionalInterface
public interface RcptParseHook {
    HookResult onRcptParse(ParseContext ctx);
}
