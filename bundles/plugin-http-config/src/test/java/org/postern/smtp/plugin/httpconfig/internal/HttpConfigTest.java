package org.postern.smtp.plugin.httpconfig.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.ConfigContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestContext;

/** Against a real HTTP server on loopback (the JDK's), with a fake clock for the cache. */
class HttpConfigTest {
    private HttpServer server;
    private final Map<String, Integer> requests = new ConcurrentHashMap<>();
    private final Map<String, String> documents = new ConcurrentHashMap<>();
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final TestContext shared = new TestContext();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath() + (exchange.getRequestURI().getQuery() == null ? ""
                    : "?" + exchange.getRequestURI().getQuery());
            requests.merge(path, 1, Integer::sum);
            if (path.startsWith("/slow/")) {
                try {
                    Thread.sleep(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            String body = documents.get(path);
            byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : bytes.length);
            if (body != null) {
                exchange.getResponseBody().write(bytes);
            }
            exchange.close();
        });
        server.setExecutor(Executors.newCachedThreadPool());
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private ConfigContext ask(String item) {
        return shared.configItem(item);
    }

    private HttpConfig plugin(String... urls) {
        return new HttpConfig(List.of(urls), Duration.ofMillis(500), 60_000, 10_000, now::get);
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
        assertTrue(shared.logged().stream().anyMatch(line -> line.startsWith("WARN config item badmailfrom: " + base() + "/slow/")));
        now.addAndGet(10_001);
        documents.put("/missing/badmailfrom", "@spam.example\n");
        assertEquals(List.of("@spam.example"), plugin.onConfig(ask("badmailfrom")).message());
    }
}
