package org.postern.store.mvstore.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.testkit.TestClock;
import org.postern.smtp.testkit.TestConfig;

class MvStoreStateStoreTest {
    private static final Duration HOUR = Duration.ofHours(1);

    @TempDir
    Path folder;
    private final TestClock clock = new TestClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final List<MvStoreStateStore> opened = new ArrayList<>();

    @AfterEach
    void closeStores() {
        opened.forEach(MvStoreStateStore::close);
    }

    private MvStoreStateStore store(MVStore mvStore, int purgeBatch, Duration purgeInterval) {
        MvStoreStateStore store = new MvStoreStateStore(mvStore, clock, purgeBatch, purgeInterval);
        opened.add(store);
        return store;
    }

    private MvStoreStateStore store(MVStore mvStore) {
        return store(mvStore, 10_000, HOUR);
    }

    private MVStore file() {
        return MvStoreStateStore.open(folder.resolve("state.mv.db"), 1000);
    }

    private static <T> T now(CompletionStage<T> stage) {
        // the store answers before it returns; a stage still open is a failure of that promise
        assertTrue(stage.toCompletableFuture().isDone(), "the stage is complete when the call returns");
        return stage.toCompletableFuture().join();
    }

    @Test
    void valuesAndCountersSurviveClosingAndReopeningTheFile() {
        MvStoreStateStore first = new MvStoreStateStore(file(), clock, 10_000, HOUR);
        now(first.put("greylisting:1", "1717200000:1:0:0", HOUR));
        now(first.add("karma:192.0.2.1", 3, HOUR));
        first.close();

        MvStoreStateStore reopened = store(file());
        assertEquals(Optional.of("1717200000:1:0:0"), now(reopened.get("greylisting:1")));
        assertEquals(4L, now(reopened.add("karma:192.0.2.1", 1, HOUR)));
    }

    @Test
    void changesAreWrittenWithinTheCommitDelayWithoutAClose() throws InterruptedException {
        MVStore crashing = MvStoreStateStore.open(folder.resolve("state.mv.db"), 1);
        long writesBefore = crashing.getFileStore().getWriteCount();
        now(store(crashing).put("greylisting:2", "written", HOUR));
        // the background writer commits, then writes the chunk to the file on another thread
        long deadline = System.currentTimeMillis() + 10_000;
        while ((crashing.hasUnsavedChanges() || crashing.getFileStore().getWriteCount() == writesBefore)
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(1);
        }
        // as a killed process would leave it: no final write
        crashing.closeImmediately();

        assertEquals(Optional.of("written"), now(store(file()).get("greylisting:2")));
    }

    @Test
    void aKeyIsGoneOnceItsTimeToLiveIsOver() {
        MvStoreStateStore store = store(file());
        now(store.put("greylisting:3", "black", Duration.ofSeconds(10)));
        clock.advance(Duration.ofMillis(9_999));
        assertEquals(Optional.of("black"), now(store.get("greylisting:3")));
        clock.advance(Duration.ofMillis(1));
        assertEquals(Optional.empty(), now(store.get("greylisting:3")));
        assertFalse(now(store.remove("greylisting:3")));
    }

    @Test
    void anExpiredCounterStartsAgainFromZeroAndEachAddRenewsTheTimeToLive() {
        MvStoreStateStore store = store(file());
        assertEquals(2L, now(store.add("rate:192.0.2.1", 2, Duration.ofSeconds(10))));
        clock.advance(Duration.ofSeconds(8));
        assertEquals(5L, now(store.add("rate:192.0.2.1", 3, Duration.ofSeconds(10))));
        clock.advance(Duration.ofSeconds(8));
        assertEquals(Optional.of("5"), now(store.get("rate:192.0.2.1")));
        clock.advance(Duration.ofSeconds(2));
        assertEquals(-1L, now(store.add("rate:192.0.2.1", -1, Duration.ofSeconds(10))));
    }

    @Test
    void removeAnswersWhetherTheKeyWasThere() {
        MvStoreStateStore store = store(file());
        now(store.put("k", "v", HOUR));
        assertTrue(now(store.remove("k")));
        assertFalse(now(store.remove("k")));
        assertEquals(Optional.empty(), now(store.get("k")));
    }

    @Test
    void addingToAValueThatIsNoNumberFailsTheStage() {
        MvStoreStateStore store = store(file());
        now(store.put("k", "text", HOUR));
        CompletionStage<Long> sum = store.add("k", 1, HOUR);
        ExecutionException failure = assertThrows(ExecutionException.class, () -> sum.toCompletableFuture().get());
        assertInstanceOf(NumberFormatException.class, failure.getCause());
        assertEquals(Optional.of("text"), now(store.get("k")));
    }

    @Test
    void aTimeToLiveThatIsNotPositiveFailsTheStage() {
        MvStoreStateStore store = store(file());
        assertTrue(store.put("k", "v", Duration.ZERO).toCompletableFuture().isCompletedExceptionally());
        assertEquals(Optional.empty(), now(store.get("k")));
    }

    @Test
    void concurrentAddsAreNeverLost() throws Exception {
        MvStoreStateStore store = store(file());
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> adders = new ArrayList<>();
            for (int thread = 0; thread < 8; thread++) {
                adders.add(threads.submit(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        now(store.add("rate:shared", 1, HOUR));
                    }
                }));
            }
            for (Future<?> adder : adders) {
                adder.get(30, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        assertEquals(Optional.of("16000"), now(store.get("rate:shared")));
    }

    @Test
    void aPurgePassRemovesAtMostItsBatchOfExpiredKeysAndGoesOnWhereItStopped() {
        MVStore mvStore = file();
        MVMap<String, String> raw = mvStore.openMap("state");
        MvStoreStateStore store = store(mvStore, 2, HOUR);
        for (String key : List.of("a", "b", "c", "d", "e")) {
            now(store.put(key, "short", Duration.ofSeconds(1)));
        }
        now(store.put("c", "long", HOUR));
        clock.advance(Duration.ofSeconds(2));

        store.purgeExpired();
        assertEquals(List.of("c", "d", "e"), List.copyOf(raw.keySet()));
        store.purgeExpired();
        assertEquals(List.of("c", "e"), List.copyOf(raw.keySet()));
        store.purgeExpired();
        assertEquals(List.of("c"), List.copyOf(raw.keySet()));
        assertEquals(Optional.of("long"), now(store.get("c")));
    }

    @Test
    void expiredKeysArePurgedInTheBackground() throws InterruptedException {
        MVStore mvStore = file();
        MVMap<String, String> raw = mvStore.openMap("state");
        MvStoreStateStore store = store(mvStore, 10_000, Duration.ofMillis(10));
        now(store.put("gone", "v", Duration.ofSeconds(1)));
        now(store.put("kept", "v", HOUR));
        clock.advance(Duration.ofSeconds(1));
        long deadline = System.currentTimeMillis() + 10_000;
        while (raw.containsKey("gone") && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(List.of("kept"), List.copyOf(raw.keySet()));
    }

    @Test
    void aFileThatCannotBeOpenedIsLoggedAndTheDefaultFileUsed() throws Exception {
        Path notAFolder = Files.writeString(folder.resolve("plain"), "");
        MvStoreStateStore.Config config = TestConfig.of(MvStoreStateStore.Config.class,
                Map.of("file", notAFolder.resolve("state.mv.db").toString()));
        store(MvStoreStateStore.open(config, folder.resolve("data").toString()));
        assertTrue(Files.isRegularFile(folder.resolve("data/state.mv.db")));
        assertFalse(Files.exists(notAFolder.resolve("state.mv.db")));
    }

}
