package org.postern.smtp.core.internal.dispatch;

import java.time.Duration;
import java.util.Comparator;
import java.util.Set;
import org.postern.smtp.api.LogLevel;

/**
 * One hook service as the dispatcher sees it. Sorted by order (lower first), then service ranking (higher
 * first), then service id (older first).
 *
 * @param timeout the plugin's own timeout, or null for the core default
 * @param logLevel the least severe level of the plugin's own log lines that are kept (qpsmtpd's per-plugin
 *     {@code loglevel}), or null for all of them
 * @param listeners the names of the listeners whose sessions the plugin runs in; empty for all of them
 */
public record RegisteredHook(String pluginName, Object service, int order, int ranking, long serviceId, Duration timeout,
        LogLevel logLevel, Set<String> listeners) {
    public static final Comparator<RegisteredHook> RUN_ORDER = Comparator.comparingInt(RegisteredHook::order)
            .thenComparing(Comparator.comparingInt(RegisteredHook::ranking).reversed())
            .thenComparingLong(RegisteredHook::serviceId);

    /** A plugin that runs on every listener. */
    public RegisteredHook(String pluginName, Object service, int order, int ranking, long serviceId, Duration timeout,
            LogLevel logLevel) {
        this(pluginName, service, order, ranking, serviceId, timeout, logLevel, Set.of());
    }

    public boolean runsOn(String listener) {
        return listeners.isEmpty() || listeners.contains(listener);
    }
}
