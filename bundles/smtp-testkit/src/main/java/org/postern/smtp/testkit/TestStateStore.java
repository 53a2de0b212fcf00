package org.postern.smtp.testkit;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.postern.smtp.api.store.StateStore;

/**
 * The {@link StateStore} service in memory, as store-mvstore keeps it: each key lives for its time to live by the
 * clock given (a {@link TestClock} moves it), and the store can be made to fail every call, as one whose server is
 * down. For plugins' unit tests; not thread-safe.
 */
public final class TestStateStore implements StateStore {
    private record Entry(String value, Instant expires, Duration ttl) {
    }

    private final Map<String, Entry> entries = new TreeMap<>();
    private final Clock clock;
    private boolean failing;

    public TestStateStore(Clock clock) {
        this.clock = clock;
    }

    /** From now on every call fails (a failed stage), or answers again. */
    public void failing(boolean failing) {
        this.failing = failing;
    }

    /** Every key's value, alive or expired, in key order. */
    public Map<String, String> values() {
        Map<String, String> values = new TreeMap<>();
        entries.forEach((key, entry) -> values.put(key, entry.value()));
        return values;
    }

    /** The key's value while it lives. */
    public Optional<String> value(String key) {
        Entry entry = entries.get(key);
        return entry == null || !entry.expires().isAfter(clock.instant()) ? Optional.empty() : Optional.of(entry.value());
    }

    /** When the key expires; empty when it was never written or has been removed. */
    public Optional<Instant> expiry(String key) {
        return Optional.ofNullable(entries.get(key)).map(Entry::expires);
    }

    /** The time to live the key was last written with. */
    public Optional<Duration> ttl(String key) {
        return Optional.ofNullable(entries.get(key)).map(Entry::ttl);
    }

    /** Writes a key as another node, or an older version of a plugin, would have written it. */
    public void set(String key, String value, Duration ttl) {
        entries.put(key, new Entry(value, clock.instant().plus(ttl), ttl));
    }

    /** Forgets every key. */
    public void clear() {
        entries.clear();
    }

    private <T> CompletionStage<T> answer(Supplier<T> work) {
        return failing ? CompletableFuture.failedFuture(new IOException("store down")) : CompletableFuture.completedFuture(work.get());
    }

    @Override
    public CompletionStage<Optional<String>> get(String key) {
        return answer(() -> value(key));
    }

    @Override
    public CompletionStage<Void> put(String key, String value, Duration ttl) {
        return answer(() -> {
            set(key, value, ttl);
            return null;
        });
    }

    @Override
    public CompletionStage<Long> add(String key, long delta, Duration ttl) {
        return answer(() -> {
            long sum = value(key).map(Long::parseLong).orElse(0L) + delta;
            set(key, Long.toString(sum), ttl);
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
}
