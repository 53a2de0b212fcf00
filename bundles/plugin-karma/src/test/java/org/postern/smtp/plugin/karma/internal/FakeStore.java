package org.postern.smtp.plugin.karma.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.postern.smtp.api.store.StateStore;

/** A store held in a map, with the time to live of each key, as store-mvstore keeps it; for the tests of this bundle. */
final class FakeStore implements StateStore {
    private record Entry(String value, Instant expires) {
    }

    final Map<String, Entry> entries = new HashMap<>();
    private final Clock clock;
    final Map<String, Duration> lastTtl = new HashMap<>();
    boolean failing;

    FakeStore(Clock clock) {
        this.clock = clock;
    }

    private <T> CompletionStage<T> answer(Supplier<T> work) {
        return failing ? CompletableFuture.failedFuture(new IllegalStateException("store down"))
                : CompletableFuture.completedFuture(work.get());
    }

    private Optional<String> alive(String key) {
        Entry entry = entries.get(key);
        return entry == null || !entry.expires().isAfter(clock.instant()) ? Optional.empty() : Optional.of(entry.value());
    }

    @Override
    public CompletionStage<Optional<String>> get(String key) {
        return answer(() -> alive(key));
    }

    @Override
    public CompletionStage<Void> put(String key, String value, Duration ttl) {
        return answer(() -> {
            entries.put(key, new Entry(value, clock.instant().plus(ttl)));
            lastTtl.put(key, ttl);
            return null;
        });
    }

    @Override
    public CompletionStage<Long> add(String key, long delta, Duration ttl) {
        return answer(() -> {
            long sum = alive(key).map(Long::parseLong).orElse(0L) + delta;
            entries.put(key, new Entry(Long.toString(sum), clock.instant().plus(ttl)));
            lastTtl.put(key, ttl);
            return sum;
        });
    }

    @Override
    public CompletionStage<Boolean> remove(String key) {
        return answer(() -> {
            Entry removed = entries.remove(key);
            return removed != null && removed.expires().isAfter(clock.instant());
        });
    }

    /** A field of karma's record of this address, {@code penalty}, {@code naughty}, {@code nice} or {@code connects}. */
    Optional<String> value(String ip, String field) {
        return alive("karma:" + ip + ":" + field);
    }
}
