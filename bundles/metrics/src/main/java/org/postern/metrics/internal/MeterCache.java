package org.postern.metrics.internal;

import io.micrometer.core.instrument.Meter;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Meters by their tag values, registered the first time a key is seen: after that, an event's meter is one map
 * read, without the builder, the tag list and the registry's own lookup that registering again would cost.
 */
final class MeterCache<K, M extends Meter> {
    private final ConcurrentHashMap<K, M> meters = new ConcurrentHashMap<>();
    private final Function<K, M> register;

    MeterCache(Function<K, M> register) {
        this.register = register;
    }

    M get(K key) {
        M meter = meters.get(key);
        return meter != null ? meter : meters.computeIfAbsent(key, register);
    }
}
