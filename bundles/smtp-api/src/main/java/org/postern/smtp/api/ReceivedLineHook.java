package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code received_line}: OK with message lines supplies the Received header's value; anything else keeps the default. */
@ConsumerType
@FunctionalInterface
public interface ReceivedLineHook {
    HookResult onReceivedLine(ReceivedLineContext ctx);
}
