package org.postern.dns.internal;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Answers kept for their TTL, at most {@code capacity} of them: when full, expired answers go first, then
 * arbitrary ones, so a flood of unique names (every client of a botnet asked of a DNSBL) costs a bounded
 * amount of memory and never blocks a lookup.
 */
final class TtlCache<V> {
    private record Entry<V>(V value, long expiresAtNanos) {
    }

    private final Map<String, Entry<V>> entries = new ConcurrentHashMap<>();
    private final int capacity;
    private final LongSupplier clock;

    TtlCache(int capacity, LongSupplier nanoClock) {
        this.capacity = capacity;
        this.clock = nanoClock;
    }

    /** The value while it is fresh, else null. */
    V get(String key) {
        Entry<V> entry = entries.get(key);
        if (entry == null) {
            return null;
        }
        if (clock.getAsLong() - entry.expiresAtNanos >= 0) {
            entries.remove(key, entry);
            return null;
        }
        return entry.value;
    }

    /** Keeps a value for {@code ttlSeconds}; a TTL of 0 keeps nothing (RFC 1035: use it for this query only). */
    void put(String key, V value, long ttlSeconds) {
        if (ttlSeconds <= 0 || capacity == 0) {
            return;
        }
        if (entries.size() >= capacity) {
            makeRoom();
        }
        entries.put(key, new Entry<>(value, clock.getAsLong() + ttlSeconds * 1_000_000_000L));
    }

    int size() {
        return entries.size();
    }

    void clear() {
        entries.clear();
    }

    private void makeRoom() {
        long now = clock.getAsLong();
        entries.values().removeIf(entry -> now - entry.expiresAtNanos >= 0);
        int excess = entries.size() - capacity * 9 / 10;
        for (Iterator<String> keys = entries.keySet().iterator(); excess > 0 && keys.hasNext(); excess--) {
            keys.next();
            keys.remove();
        }
    }
}
