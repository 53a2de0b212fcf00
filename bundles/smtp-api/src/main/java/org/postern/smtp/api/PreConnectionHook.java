package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code pre_connection}: a connection was accepted, before the session starts. DENY* answers 550, DENYSOFT* 451, and the connection is closed. */
@ConsumerType
@FunctionalInterface
public interface PreConnectionHook {
    HookResult onPreConnection(PreConnectionContext ctx);
}
