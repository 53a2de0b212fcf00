package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code rcpt}: after RCPT TO. OK accepts (250); DENY 550, DENYSOFT 450, DENY_DISCONNECT 550 + close, DENYSOFT_DISCONNECT 421 + close; if every plugin DECLINED, 450. */
@ConsumerType
@FunctionalInterface
public interface RcptHook {
    HookResult onRcpt(RcptContext ctx);
}
