package org.postern.smtp.core.internal.protocol;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Failed AUTH attempts per client network across connections: once a network has used up its budget within
 * the window, it may not try again until the window has passed. Clients are counted by {@link ClientNetwork}
 * (an IPv6 client by its prefix). The table is bounded; when full, networks not yet in it are not counted
 * (their sessions are still slowed down by the per-session delay).
 */
public final class AuthFailureBudget {
    private static final int MAX_TRACKED = 100_000;

    private record Window(long startNanos, int failures) {
    }

    private final ConcurrentMap<String, Window> windows = new ConcurrentHashMap<>();
    private volatile int maxFailures;
    private volatile long windowNanos;
    private volatile int ipv6PrefixLength;

    public AuthFailureBudget(int maxFailures, Duration window, int ipv6PrefixLength) {
        limits(maxFailures, window, ipv6PrefixLength);
    }

    /** Changes the budget; failures already counted stay counted. */
    public void limits(int maxFailures, Duration window, int ipv6PrefixLength) {
        this.maxFailures = maxFailures;
        this.windowNanos = window.toNanos();
        this.ipv6PrefixLength = ipv6PrefixLength;
    }

    /** True when the client's network has no failed attempts left in the current window. */
    public boolean exhausted(InetAddress client) {
        Window window = windows.get(ClientNetwork.of(client, ipv6PrefixLength));
        return window != null && !expired(window, System.nanoTime()) && window.failures() >= maxFailures;
    }

    /** Counts one failed attempt; returns true when it used up the budget. */
    public boolean failed(InetAddress client) {
        long now = System.nanoTime();
        String key = ClientNetwork.of(client, ipv6PrefixLength);
        if (windows.size() >= MAX_TRACKED && !windows.containsKey(key)) {
            windows.values().removeIf(window -> expired(window, now));
            if (windows.size() >= MAX_TRACKED) {
                return false;
            }
        }
        Window counted = windows.compute(key, (k, window) -> window == null || expired(window, now)
                ? new Window(now, 1) : new Window(window.startNanos(), window.failures() + 1));
        return counted.failures() >= maxFailures;
    }

    private boolean expired(Window window, long now) {
        return now - window.startNanos() > windowNanos;
    }
}
