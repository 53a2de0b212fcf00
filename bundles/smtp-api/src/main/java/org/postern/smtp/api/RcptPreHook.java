package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code rcpt_pre}: sees the parsed RCPT address text; OK with one message line replaces it. */
@ConsumerType
@FunctionalInterface
public interface RcptPreHook {
    HookResult onRcptPre(AddressPreContext ctx);
}
