package org.postern.store.mvstore.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.store.StateStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state store in one file of H2's MVStore, on the server's disk. Each value is kept with the moment it
 * expires; an expired key reads as missing at once, and a background pass removes a bounded number of them at a
 * time. Calls complete their stage before they return: an MVStore call works on cached pages and, at worst, reads
 * or writes the local file, which takes less than handing the call to another thread would.
 */
@Component(service = StateStore.class, configurationPid = MvStoreStateStore.PID)
@Designate(ocd = MvStoreStateStore.Config.class)
public final class MvStoreStateStore implements StateStore {
    static final String PID = "org.postern.store.mvstore";
    private static final String MAP_NAME = "state";
    private static final int DEFAULT_COMMIT_DELAY_MS = 1000;
    private static final int DEFAULT_PURGE_INTERVAL = 60;
    private static final int DEFAULT_PURGE_BATCH = 10_000;
    private static final Logger LOG = LoggerFactory.getLogger(MvStoreStateStore.class);

    @ObjectClassDefinition(name = "Postern store: MVStore",
            description = "Keeps the plugins' shared state (greylisting, karma, counters) in a local file")
    public @interface Config {
        @AttributeDefinition(description = "The store's file; empty for <data folder>/state.mv.db")
        String file() default "";

        @AttributeDefinition(description = "Milliseconds at most between a change and its write to the file; "
                + "at least 1")
        int commit_delay_ms() default DEFAULT_COMMIT_DELAY_MS;

        @AttributeDefinition(description = "Seconds between two passes that remove expired keys; at least 1")
        int purge_interval() default DEFAULT_PURGE_INTERVAL;

        @AttributeDefinition(description = "Keys one purge pass looks at, at most; at least 1")
        int purge_batch() default DEFAULT_PURGE_BATCH;
    }

    private final MVStore store;
    private final MVMap<String, String> entries;
    private final Clock clock;
    private final int purgeBatch;
    private final ScheduledExecutorService purger;
    /** Where the next purge pass starts; only one pass runs at a time. */
    private String purgeFrom;

    @Activate
    public MvStoreStateStore(Config config, BundleContext context) {
        this(open(config, context.getProperty("postern.data")), Clock.systemUTC(),
                atLeastOne("purge.batch", config.purge_batch(), DEFAULT_PURGE_BATCH),
                Duration.ofSeconds(atLeastOne("purge.interval", config.purge_interval(), DEFAULT_PURGE_INTERVAL)));
    }

    /** A store on an open MVStore, which it closes, purging expired keys every {@code purgeInterval}. */
    MvStoreStateStore(MVStore store, Clock clock, int purgeBatch, Duration purgeInterval) {
        this.store = store;
        this.entries = store.openMap(MAP_NAME);
        this.clock = clock;
        this.purgeBatch = purgeBatch;
        this.purger = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "postern-store-mvstore-purge");
            thread.setDaemon(true);
            return thread;
        });
        purger.scheduleWithFixedDelay(this::purgeExpired, purgeInterval.toMillis(), purgeInterval.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    static MVStore open(Config config, String dataFolder) {
        int commitDelay = atLeastOne("commit.delay.ms", config.commit_delay_ms(), DEFAULT_COMMIT_DELAY_MS);
        Path standard = Path.of(dataFolder != null ? dataFolder : System.getProperty("java.io.tmpdir"), "state.mv.db");
        if (!config.file().isBlank()) {
            Path configured = Path.of(config.file().strip());
            try {
                return open(configured, commitDelay);
            } catch (RuntimeException e) {
                LOG.error("configuration {}: key 'file': cannot open {} ({}); using {}", PID, configured, e.getMessage(),
                        standard);
            }
        }
        return open(standard, commitDelay);
    }

    /** Opens (creating it and its folder if need be) a store that writes its changes within {@code commitDelay} ms. */
    static MVStore open(Path file, int commitDelay) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot create the folder of " + file, e);
        }
        MVStore store = new MVStore.Builder().fileName(file.toString())
                .backgroundExceptionHandler((writer, failure) -> LOG.error("cannot write {}: {}", file, failure.toString()))
                .open();
        store.setAutoCommitDelay(commitDelay);
        LOG.info("state kept in {}, written within {} ms of a change", file, commitDelay);
        return store;
    }

    private static int atLeastOne(String key, int value, int fallback) {
        if (value >= 1) {
            return value;
        }
        LOG.error("configuration {}: key '{}': {} is less than 1; using {}", PID, key, value, fallback);
        return fallback;
    }

    @Deactivate
    void close() {
        purger.shutdownNow();
        try {
            purger.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String file = store.getFileStore().getFileName();
        // writes what the last commit delay had not written yet
        store.close();
        LOG.info("state written to {} and closed", file);
    }

    @Override
    public CompletionStage<Optional<String>> get(String key) {
        return answer(() -> {
            String stored = entries.get(key);
            return isAlive(stored) ? Optional.of(valueOf(stored)) : Optional.empty();
        });
    }

    @Override
    public CompletionStage<Void> put(String key, String value, Duration ttl) {
        return answer(() -> {
            entries.put(key, stored(value, ttl));
            return null;
        });
    }

    @Override
    public CompletionStage<Long> add(String key, long delta, Duration ttl) {
        return answer(() -> {
            while (true) {
                String previous = entries.get(key);
                long sum = (isAlive(previous) ? Long.parseLong(valueOf(previous)) : 0) + delta;
                String next = stored(Long.toString(sum), ttl);
                // MVMap's conditional writes are atomic: on a race, read again and add to the winner's sum
                boolean written = previous == null ? entries.putIfAbsent(key, next) == null
                        : entries.replace(key, previous, next);
                if (written) {
                    return sum;
                }
            }
        });
    }

    @Override
    public CompletionStage<Boolean> remove(String key) {
        return answer(() -> isAlive(entries.remove(key)));
    }

    /**
     * Removes the expired keys among the next {@code purge.batch} keys, in key order from where the last pass
     * stopped, starting over at the first key after the last one: each pass does bounded work, and every key is
     * looked at once per round.
     */
    void purgeExpired() {
        try {
            long now = clock.millis();
            Cursor<String, String> cursor = entries.cursor(purgeFrom);
            int examined = 0;
            int removed = 0;
            String last = null;
            while (examined < purgeBatch && cursor.hasNext()) {
                last = cursor.next();
                String stored = cursor.getValue();
                examined++;
                // only the value read here: a key written again meanwhile lives on
                if (expiry(stored) <= now && entries.remove(last, stored)) {
                    removed++;
                }
            }
            purgeFrom = last == null ? null : entries.higherKey(last);
            LOG.debug("purge: {} expired of {} keys looked at", removed, examined);
        } catch (RuntimeException e) {
            LOG.warn("purge of expired keys failed: {}", e.toString());
        }
    }

    private String stored(String value, Duration ttl) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("time to live must be positive: " + ttl);
        }
        return (clock.millis() + ttl.toMillis()) + ":" + value;
    }

    private boolean isAlive(String stored) {
        return stored != null && expiry(stored) > clock.millis();
    }

    private static long expiry(String stored) {
        return Long.parseLong(stored, 0, stored.indexOf(':'), 10);
    }

    private static String valueOf(String stored) {
        return stored.substring(stored.indexOf(':') + 1);
    }

    /** The work's result as a completed stage, or a failed one when the store cannot answer. */
    private static <T> CompletionStage<T> answer(Supplier<T> work) {
        try {
            return CompletableFuture.completedFuture(work.get());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
