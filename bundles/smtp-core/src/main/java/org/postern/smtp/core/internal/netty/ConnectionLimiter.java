package org.postern.smtp.core.internal.netty;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.postern.smtp.core.internal.protocol.ClientNetwork;

/**
 * Counts open connections, in total and per client (an IPv4 address or an IPv6 prefix, see
 * {@link ClientNetwork}), against their limits.
 */
final class ConnectionLimiter {
    private volatile int maxTotal;
    private volatile int maxPerIp;
    private volatile int ipv6PrefixLength = 64;
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentMap<String, Integer> perIp = new ConcurrentHashMap<>();

    /**
     * Changes the limits; connections already open stay open even when now over them. A new prefix length
     * applies to connections counted from now on.
     */
    void limits(int maxTotal, int maxPerIp, int ipv6PrefixLength) {
        this.maxTotal = maxTotal;
        this.maxPerIp = maxPerIp;
        this.ipv6PrefixLength = ipv6PrefixLength;
    }

    /**
     * Counts a new connection; returns the client network it was counted under, for {@link #release}, or null
     * (and counts nothing) when a limit is reached.
     */
    String acquire(InetAddress ip) {
        if (total.incrementAndGet() > maxTotal) {
            total.decrementAndGet();
            return null;
        }
        String network = ClientNetwork.of(ip, ipv6PrefixLength);
        if (perIp.merge(network, 1, Integer::sum) > maxPerIp) {
            release(network);
            return null;
        }
        return network;
    }

    /** Frees a place taken by {@link #acquire}, given the network it returned. */
    void release(String network) {
        total.decrementAndGet();
        perIp.computeIfPresent(network, (k, count) -> count <= 1 ? null : count - 1);
    }



    int total() {
        return total.get();
    }

    int fromIp(InetAddress ip) {
        return perIp.getOrDefault(ClientNetwork.of(ip, ipv6PrefixLength), 0);
    }
}
