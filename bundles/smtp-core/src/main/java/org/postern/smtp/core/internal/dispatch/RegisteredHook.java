package org.postern.smtp.core.internal.dispatch;

import java.time.Duration;
import java.util.Comparator;
import org.postern.smtp.api.LogLevel;

/**
 * One hook service as the dispatcher sees it. Sorted by order (lower first), then service ranking (higher
 * first), then service id (older first).
 *
 * @param timeout the plugin's own timeout, or null for the core default
 * @param logLevel the least severe level of the plugin's own log lines that are kept (qpsmtpd's per-plugin
 *     {@code loglevel}), or null for all of them
 */
public record RegisteredHook(String pluginName, Object service, int order, int ranking, long serviceId, Duration timeout,
        LogLevel logLevel) {
    public static final Comparator<RegisteredHook> RUN_ORDER = Comparator.comparingInt(RegisteredHook::order)
            .thenComparing(Comparator.comparingInt(RegisteredHook::ranking).reversed())
            .thenComparingLong(RegisteredHook::serviceId);
}
