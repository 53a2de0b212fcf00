package org.postern.smtp.plugin.httpconfig.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.ConfigContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestContext;

/**
 * Against a real HTTP server on loopback (the JDK's), with a fake clock for the cache. Paths starting with
 * {@code /slow/} answer after 2 s, {@code /delayed/} after 300 ms, {@code /drip/} send a line every 100 ms for 3 s,
 * {@code /huge/} send 1 MiB at once and {@code /moved/} redirect to {@code /cfg/}; other paths
 * answer from {@link #documents}, with a 503 for those in {@link #broken}.
 */
class HttpConfigTest {
    private static final int MAX_BYTES = 65_536;

    private HttpServer server;
    private final Map<String, Integer> requests = new ConcurrentHashMap<>();
    private final Map<String, String> documents = new ConcurrentHashMap<>();
    private final Set<String> broken = ConcurrentHashMap.newKeySet();
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final TestContext shared = new TestContext();
    private final List<HttpConfig> plugins = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath() + (exchange.getRequestURI().getQuery() == null ? ""
                    : "?" + exchange.getRequestURI().getQuery());
            requests.merge(path, 1, Integer::sum);
            try {
                respond(exchange, path);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                exchange.close();
            }
        });
        server.setExecutor(Executors.newCachedThreadPool());
        server.start();
    }

    private void respond(HttpExchange exchange, String path) throws IOException, InterruptedException {
        if (path.startsWith("/slow/")) {
            Thread.sleep(2000);
        } else if (path.startsWith("/delayed/")) {
            Thread.sleep(300);
        } else if (path.startsWith("/drip/")) {
            sendLines(exchange, 30, 100);
            return;
        } else if (path.startsWith("/huge/")) {
            sendLines(exchange, 1024, 0);
            return;
        } else if (path.startsWith("/moved/")) {
            exchange.getResponseHeaders().add("Location", path.replace("/moved/", "/cfg/"));
            exchange.sendResponseHeaders(302, -1);
            return;
        }
        if (broken.contains(path)) {
            exchange.sendResponseHeaders(503, -1);
            return;
        }
        String body = documents.get(path);
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : bytes.length);
        if (body != null) {
            exchange.getResponseBody().write(bytes);
        }
    }

    /** Sends the headers at once, then 1 KiB lines with a pause after each. */
    private static void sendLines(HttpExchange exchange, int lines, long pauseMillis) throws IOException, InterruptedException {
        exchange.sendResponseHeaders(200, 0);
        OutputStream body = exchange.getResponseBody();
        byte[] line = ("x".repeat(1023) + "\n").getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < lines; i++) {
            body.write(line);
            body.flush();
            Thread.sleep(pauseMillis);
        }
    }

    @AfterEach
    void stop() {
        plugins.forEach(HttpConfig::deactivate);
        server.stop(0);
    }

    private String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private ConfigContext ask(String item) {
        return shared.configItem(item);
    }

    private HttpConfig plugin(String... urls) {
        return plugin(500, MAX_BYTES, urls);
    }

    private HttpConfig plugin(int timeoutMillis, int maxBytes, String... urls) {
        HttpConfig plugin = new HttpConfig(settings(timeoutMillis, maxBytes, true, urls), now::get);
        plugins.add(plugin);
        return plugin;
    }

    private static HttpConfig.Settings settings(int timeoutMillis, int maxBytes, boolean allowHttp, String... urls) {
        return new HttpConfig.Settings(List.of(urls), Duration.ofMillis(timeoutMillis), 60_000, 10_000, maxBytes, allowHttp);
    }

    private boolean loggedLineStartingWith(String start) {
        return shared.logged().stream().anyMatch(line -> line.startsWith(start));
    }

    @Test
    void answersWithTheLinesOfTheFirstUrlThatHasTheItem() {
        documents.put("/second/rcpthosts", "# local domains\nexample.org\n\n  example.net  \n");
        HookResult answer = plugin(base() + "/first/", base() + "/second/{item}").onConfig(ask("rcpthosts"));
        assertEquals(ReturnCode.OK, answer.code());
        assertEquals(List.of("example.org", "example.net"), answer.message());
        assertEquals(1, requests.get("/first/rcpthosts"));
    }

    @Test
    void answersAreCachedUntilTheyExpire() {
        documents.put("/config?name=me", "mx.example.org\n");
        HttpConfig plugin = plugin(base() + "/config?name={item}");
        for (int i = 0; i < 5; i++) {
            assertEquals(List.of("mx.example.org"), plugin.onConfig(ask("me")).message());
        }
        assertEquals(1, requests.get("/config?name=me"));
        documents.put("/config?name=me", "mx2.example.org\n");
        now.addAndGet(60_001);
        assertEquals(List.of("mx2.example.org"), plugin.onConfig(ask("me")).message());
        assertEquals(2, requests.get("/config?name=me"));
    }

    @Test
    void missesAndTimeoutsDeclineAndAreRememberedForAShorterTime() {
        HttpConfig plugin = plugin(base() + "/slow/", base() + "/missing/");
        long start = System.nanoTime();
        assertEquals(ReturnCode.DECLINED, plugin.onConfig(ask("badmailfrom")).code());
        assertTrue(System.nanoTime() - start < 1_900_000_000L, "the 500 ms timeout bounded the slow server");
        assertEquals(ReturnCode.DECLINED, plugin.onConfig(ask("badmailfrom")).code());
        assertEquals(1, requests.get("/missing/badmailfrom"));
        assertTrue(loggedLineStartingWith("WARN config item badmailfrom: " + base() + "/slow/"));
        now.addAndGet(10_001);
        documents.put("/missing/badmailfrom", "@spam.example\n");
        assertEquals(List.of("@spam.example"), plugin.onConfig(ask("badmailfrom")).message());
    }

    @Test
    void theTimeoutBoundsTheBodyOfAServerThatDripsIt() {
        long start = System.nanoTime();
        assertEquals(ReturnCode.DECLINED, plugin(base() + "/drip/").onConfig(ask("rcpthosts")).code());
        assertTrue(System.nanoTime() - start < 1_500_000_000L, "the 500 ms timeout bounded the 3 s body");
        assertTrue(loggedLineStartingWith("WARN config item rcpthosts: " + base() + "/drip/rcpthosts failed: no complete answer within 500 ms"));
    }

    @Test
    void anAnswerLargerThanMaxBytesIsCutOffAndIsAFailure() {
        documents.put("/cfg/rcpthosts", "x".repeat(1023) + "\n");
        HttpConfig plugin = plugin(10_000, 1024, base() + "/cfg/", base() + "/huge/");
        assertEquals(ReturnCode.OK, plugin.onConfig(ask("rcpthosts")).code(), "exactly max.bytes is accepted");
        assertEquals(ReturnCode.DECLINED, plugin.onConfig(ask("badmailfrom")).code());
        assertTrue(loggedLineStartingWith("WARN config item badmailfrom: " + base() + "/huge/badmailfrom answered more than 1024 bytes"));
    }

    @Test
    void redirectsAreNotFollowedAndAreAFailure() {
        documents.put("/cfg/rcpthosts", "example.org\n");
        assertEquals(ReturnCode.DECLINED, plugin(base() + "/moved/").onConfig(ask("rcpthosts")).code());
        assertNull(requests.get("/cfg/rcpthosts"));
        assertTrue(loggedLineStartingWith("WARN config item rcpthosts: " + base() + "/moved/rcpthosts answered HTTP 302"));
    }

    @Test
    void aFailedRefreshKeepsTheLastGoodValuesButAMissEmptiesTheItem() {
        documents.put("/cfg/rcpthosts", "example.org\n");
        HttpConfig plugin = plugin(base() + "/cfg/");
        assertEquals(List.of("example.org"), plugin.onConfig(ask("rcpthosts")).message());
        broken.add("/cfg/rcpthosts");
        now.addAndGet(60_001);
        assertEquals(List.of("example.org"), plugin.onConfig(ask("rcpthosts")).message());
        assertTrue(loggedLineStartingWith("WARN config item rcpthosts: refresh failed, keeping the last good value(s)"));
        assertEquals(List.of("example.org"), plugin.onConfig(ask("rcpthosts")).message());
        assertEquals(2, requests.get("/cfg/rcpthosts"));
        now.addAndGet(10_001);
        assertEquals(List.of("example.org"), plugin.onConfig(ask("rcpthosts")).message());
        assertEquals(3, requests.get("/cfg/rcpthosts"), "retried after miss.cache.seconds");
        broken.remove("/cfg/rcpthosts");
        documents.remove("/cfg/rcpthosts");
        now.addAndGet(10_001);
        assertEquals(ReturnCode.DECLINED, plugin.onConfig(ask("rcpthosts")).code());
    }

    @Test
    void concurrentLookupsOfAnItemShareOneFetch() throws Exception {
        documents.put("/delayed/rcpthosts", "example.org\n");
        HttpConfig plugin = plugin(5_000, MAX_BYTES, base() + "/delayed/");
        CountDownLatch ready = new CountDownLatch(5);
        Callable<Object> lookup = () -> {
            ready.countDown();
            ready.await();
            return plugin.onConfig(new TestContext().configItem("rcpthosts")).message();
        };
        ExecutorService threads = Executors.newFixedThreadPool(5);
        try {
            List<Future<Object>> answers = threads.invokeAll(Collections.nCopies(5, lookup), 10, TimeUnit.SECONDS);
            for (Future<Object> answer : answers) {
                assertEquals(List.of("example.org"), answer.get());
            }
        } finally {
            threads.shutdownNow();
        }
        assertEquals(1, requests.get("/delayed/rcpthosts"));
    }

    @Test
    void plainHttpUrlsAreRefusedUnlessAllowed() {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> new HttpConfig(
                settings(500, MAX_BYTES, false, "https://config.example/smtp/", " HTTP://config.example/{item}"), now::get));
        assertEquals("key 'urls': HTTP://config.example/{item} is plain HTTP; use https or set allow.http = true", refused.getMessage());
        new HttpConfig(settings(500, MAX_BYTES, false, "https://config.example/smtp/"), now::get).deactivate();
    }

    @Test
    void deactivateStopsTheClientsThreads() throws InterruptedException {
        documents.put("/cfg/rcpthosts", "example.org\n");
        HttpConfig plugin = plugin(base() + "/cfg/");
        assertEquals(ReturnCode.OK, plugin.onConfig(ask("rcpthosts")).code());
        List<Thread> clientThreads = Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().equals("postern-http-config")).toList();
        assertFalse(clientThreads.isEmpty());
        plugin.deactivate();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (Thread thread : clientThreads) {
            thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
        assertTrue(clientThreads.stream().noneMatch(Thread::isAlive));
    }
}
