package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code post_connection}: the connection is gone, however it ended. Results are ignored. */
@ConsumerType
@FunctionalInterface
public interface PostConnectionHook {
    HookResult onPostConnection(HookContext ctx);
}
