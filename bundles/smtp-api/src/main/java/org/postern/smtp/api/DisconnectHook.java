package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code disconnect}: the server is closing the connection (QUIT or a *_DISCONNECT). Results are ignored. */
@ConsumerType
@FunctionalInterface
public interface DisconnectHook {
    HookResult onDisconnect(HookContext ctx);
}
