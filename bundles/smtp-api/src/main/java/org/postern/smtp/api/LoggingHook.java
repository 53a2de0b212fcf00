package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code logging}: a log line was written; OK means the plugin logged it, DECLINED passes it on. */
@ConsumerType
@FunctionalInterface
public interface LoggingHook {
    HookResult onLogging(LoggingContext ctx);
}
