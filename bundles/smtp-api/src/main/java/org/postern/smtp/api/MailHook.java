package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code mail}: after MAIL FROM. DENY 550, DENYSOFT 450, DENY_DISCONNECT 550 + close, DENYSOFT_DISCONNECT 421 + close; otherwise 250. */
@ConsumerType
@FunctionalInterface
public interface MailHook {
    HookResult onMail(MailContext ctx);
}
