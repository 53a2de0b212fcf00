package org.postern.store.redis.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.net.ServerSocket;
import java.time.Duration;
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
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.testkit.TestConfig;

/** The store against a real redis-server, looked at directly through a client of the test's own. */
class RedisStateStoreTest {
    private static final Duration HOUR = Duration.ofHours(1);
    private static final Duration TIMEOUT = Duration.ofMillis(500);
    private static RedisServer server;
    private static RedisClient directClient;
    private static RedisCommands<String, String> direct;
    private final List<RedisStateStore> opened = new ArrayList<>();

    @BeforeAll
    static void startRedis() throws Exception {
        server = RedisServer.onFreePort();
        directClient = RedisClient.create(server.uri());
        StatefulRedisConnection<String, String> connection = directClient.connect();
        direct = connection.sync();
    }

    @AfterAll
    static void stopRedis() throws Exception {
        directClient.shutdown();
        server.close();
    }

    @BeforeEach
    void emptyRedis() {
        direct.flushall();
    }

    @AfterEach
    void closeStores() {
        opened.forEach(RedisStateStore::close);
    }

    private RedisStateStore store(String uri) {
        RedisStateStore store = new RedisStateStore(RedisURI.create(uri), TIMEOUT, "postern:");
        opened.add(store);
        return store;
    }

    private RedisStateStore store() {
        return store(server.uri());
    }

    private static <T> T answer(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** The stage's failure, which comes within the command timeout (and a margin), not later. */
    private static Throwable failure(CompletionStage<?> stage) throws Exception {
        ExecutionException failed = assertThrows(ExecutionException.class,
                () -> stage.toCompletableFuture().get(TIMEOUT.toMillis() + 2_000, TimeUnit.MILLISECONDS));
        return failed.getCause();
    }

    @Test
    void aValueIsStoredUnderThePrefixWithItsTimeToLive() throws Exception {
        RedisStateStore store = store();
        answer(store.put("greylisting:1", "1717200000:1:0:0", Duration.ofSeconds(90)));

        assertEquals(Optional.of("1717200000:1:0:0"), answer(store.get("greylisting:1")));
        assertEquals("1717200000:1:0:0", direct.get("postern:greylisting:1"));
        long ttl = direct.pttl("postern:greylisting:1");
        assertTrue(ttl > 85_000 && ttl <= 90_000, "milliseconds to live: " + ttl);
        assertEquals(Optional.empty(), answer(store.get("greylisting:2")));
    }

    @Test
    void aKeyIsGoneOnceItsTimeToLiveIsOver() throws Exception {
        RedisStateStore store = store();
        answer(store.put("k", "short", Duration.ofMillis(50)));
        long deadline = System.currentTimeMillis() + 5_000;
        while (direct.exists("postern:k") == 1 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(Optional.empty(), answer(store.get("k")));
        assertFalse(answer(store.remove("k")));
    }

    @Test
    void addCountsFromZeroAndEachAddRenewsTheTimeToLive() throws Exception {
        RedisStateStore store = store();
        assertEquals(2L, answer(store.add("karma:192.0.2.1", 2, Duration.ofSeconds(10))));
        assertTrue(direct.pttl("postern:karma:192.0.2.1") <= 10_000);
        assertEquals(5L, answer(store.add("karma:192.0.2.1", 3, HOUR)));
        assertTrue(direct.pttl("postern:karma:192.0.2.1") > 10_000);
        assertEquals(Optional.of("5"), answer(store.get("karma:192.0.2.1")));
        assertEquals(-2L, answer(store.add("karma:192.0.2.9", -2, HOUR)));
    }

    @Test
    void removeAnswersWhetherTheKeyWasThere() throws Exception {
        RedisStateStore store = store();
        answer(store.put("k", "v", HOUR));
        assertTrue(answer(store.remove("k")));
        assertFalse(answer(store.remove("k")));
        assertEquals(0L, direct.exists("postern:k"));
    }

    @Test
    void addingToAValueThatIsNoNumberFailsTheStageAndLeavesTheValue() throws Exception {
        RedisStateStore store = store();
        answer(store.put("k", "text", HOUR));
        assertInstanceOf(RedisCommandExecutionException.class, failure(store.add("k", 1, Duration.ofSeconds(5))));
        assertEquals(Optional.of("text"), answer(store.get("k")));
        assertTrue(direct.pttl("postern:k") > 5_000, "the failed add set no expiry");
    }

    @Test
    void aTimeToLiveThatIsNotPositiveFailsTheStage() throws Exception {
        RedisStateStore store = store();
        assertInstanceOf(IllegalArgumentException.class, failure(store.put("k", "v", Duration.ZERO)));
        assertInstanceOf(IllegalArgumentException.class, failure(store.add("k", 1, Duration.ofSeconds(-1))));
        assertEquals(0L, direct.exists("postern:k"));
    }

    @Test
    void addsFromTwoNodesAtOnceAreNeverLost() throws Exception {
        List<RedisStateStore> nodes = List.of(store(), store());
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> adders = new ArrayList<>();
            for (int thread = 0; thread < 8; thread++) {
                RedisStateStore node = nodes.get(thread % 2);
                adders.add(threads.submit(() -> {
                    for (int i = 0; i < 500; i++) {
                        answer(node.add("rate:shared", 1, HOUR));
                    }
                    return null;
                }));
            }
            for (Future<?> adder : adders) {
                adder.get(60, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        assertEquals("4000", direct.get("postern:rate:shared"));
    }

    @Test
    void whileRedisIsDownCallsFailPromptlyAndAfterwardsTheStoreWorksAgain() throws Exception {
        RedisStateStore store = store();
        answer(store.put("k", "v", HOUR));
        server.stop();
        try {
            failure(store.get("k"));
            failure(store.add("n", 1, HOUR));
        } finally {
            server.start();
        }
        // Lettuce reconnects on its own; the data did not survive the restart (no persistence)
        long deadline = System.currentTimeMillis() + 20_000;
        while (store.put("k", "again", HOUR).toCompletableFuture().handle((ok, failed) -> failed).get() != null) {
            assertTrue(System.currentTimeMillis() < deadline, "no reconnection to the restarted server");
            Thread.sleep(50);
        }
        assertEquals(Optional.of("again"), answer(store.get("k")));
    }

    @Test
    void aServerThatIsNotThereAtStartIsConnectedByALaterCall() throws Exception {
        RedisServer late = RedisServer.onFreePort();
        late.stop();
        try {
            RedisStateStore store = store(late.uri());
            failure(store.get("k"));
            late.start();
            answer(store.put("k", "v", HOUR));
            assertEquals(Optional.of("v"), answer(store.get("k")));
        } finally {
            late.close();
        }
    }

    @Test
    void aCommandThatGetsNoAnswerFailsAfterTheTimeout() throws Exception {
        RedisStateStore store = store();
        answer(store.put("k", "v", HOUR));
        // the server holds every client's commands for two seconds, as a stuck server would
        direct.clientPause(2_000);
        assertInstanceOf(RedisCommandTimeoutException.class, failure(store.get("k")));
    }

    @Test
    void theProbeIsRedisPongAndFailsWithinItsTimeoutWithoutRedis() throws Exception {
        RedisStateStore store = store();
        assertEquals("Redis " + server.uri(), store.peer());
        assertEquals("PONG", answer(store.probe(Duration.ofSeconds(2))));

        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        assertInstanceOf(RedisConnectionException.class, failure(store("redis://127.0.0.1:" + closedPort).probe(Duration.ofSeconds(2))));

        // a server that holds every command: the probe gives up at its own timeout, before the store's command timeout
        direct.clientPause(2_000);
        assertInstanceOf(TimeoutException.class, failure(store.probe(Duration.ofMillis(200))));
    }

    @Test
    void aBadConfigurationIsLoggedAndTheDefaultsUsed() {
        RedisURI fallback = RedisStateStore.uri("localhost:6379");
        assertEquals("127.0.0.1", fallback.getHost());
        assertEquals(6379, fallback.getPort());
        RedisURI configured = RedisStateStore.uri(" redis://:secret@192.0.2.7:6380/2 ");
        assertEquals("192.0.2.7", configured.getHost());
        assertEquals(2, configured.getDatabase());
        RedisStateStore.Config config = TestConfig.of(RedisStateStore.Config.class, Map.of("timeout.ms", 0));
        assertEquals(2000, RedisStateStore.timeout(config).toMillis());
    }
}
