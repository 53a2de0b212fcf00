package org.postern.smtp.core.internal.netty;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Counts open connections, in total and per client IP, against their limits. */
final class ConnectionLimiter {
    private volatile int maxTotal;
    private volatile int maxPerIp;
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentMap<InetAddress, Integer> perIp = new ConcurrentHashMap<>();

    /** Changes the limits; connections already open stay open even when now over them. */
    void limits(int maxTotal, int maxPerIp) {
        this.maxTotal = maxTotal;
        this.maxPerIp = maxPerIp;
    }

    /** Counts a new connection; returns false (and counts nothing) when a limit is reached. */
    boolean acquire(InetAddress ip) {
        if (total.incrementAndGet() > maxTotal) {
            total.decrementAndGet();
            return false;
        }
        if (perIp.merge(ip, 1, Integer::sum) > maxPerIp) {
            release(ip);
            return false;
        }
        return true;
    }

    void release(InetAddress ip) {
        total.decrementAndGet();
        perIp.computeIfPresent(ip, (k, count) -> count <= 1 ? null : count - 1);
    }

    int total() {
        return total.get();
    }

    int fromIp(InetAddress ip) {
        return perIp.getOrDefault(ip, 0);
    }
}
