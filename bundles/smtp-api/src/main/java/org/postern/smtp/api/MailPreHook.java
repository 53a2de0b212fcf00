package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code mail_pre}: sees the parsed MAIL address text; OK with one message line replaces it (e.g. to add missing angle brackets). */
@ConsumerType
@FunctionalInterface
public interface MailPreHook {
    HookResult onMailPre(AddressPreContext ctx);
}
