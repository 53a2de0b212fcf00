package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/**
 * The metrics bundle in the distribution, scraped as Prometheus scrapes it: {@code /metrics} on the HTTP service,
 * before and after a message. JMX is the bundle's unit test's: the MBeans are in the server's own process.
 */
public class MetricsIT {
    private static final String ACCEPTED = "postern_connections_total{listener=\"default\",result=\"accepted\"}";
    private static final String QUEUED = "postern_transactions_total{listener=\"default\",result=\"queued\"}";
    private static final String RCPT_OK_CALLS = "postern_plugin_latency_seconds_bucket{hook=\"rcpt\",outcome=\"OK\",plugin=\"rcpt_ok\",le=\"+Inf\"}";
    private static final String MAILDIR_CALLS =
            "postern_plugin_latency_seconds_bucket{hook=\"queue\",outcome=\"OK\",plugin=\"queue/maildir\",le=\"+Inf\"}";
    private static final String SESSIONS_ENDED = "postern_session_duration_seconds_count{listener=\"default\"}";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    public void aMessageMovesTheCounters() throws Exception {
        try (ServerProcess postern = ServerProcess.posternWithPlugins("metrics", Map.of(), List.of())) {
            URI endpoint = URI.create("http://127.0.0.1:" + postern.httpPort() + "/metrics");
            Map<String, Double> before = scrapeOnceUp(endpoint, postern);

            try (SmtpClient client = new SmtpClient(postern.port)) {
                client.reply();
                client.command("EHLO client.example");
                client.command("MAIL FROM:<a@example.org>");
                String rcpt = client.command("RCPT TO:<postmaster@localhost>");
                assertTrue(rcpt, rcpt.startsWith("250"));
                String data = client.command("DATA");
                assertTrue(data, data.startsWith("354"));
                String queued = client.command("Subject: counted\r\n\r\nHello.\r\n.");
                assertTrue(queued, queued.startsWith("250"));
                client.command("QUIT");
            }

            // the session ends a moment after QUIT's reply: its duration is the last thing counted
            Map<String, Double> after = scrape(endpoint);
            long deadline = System.currentTimeMillis() + 10_000;
            while (value(after, SESSIONS_ENDED) == value(before, SESSIONS_ENDED) && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
                after = scrape(endpoint);
            }
            assertEquals(1.0, value(after, SESSIONS_ENDED) - value(before, SESSIONS_ENDED), 0);
            assertEquals(1.0, value(after, ACCEPTED) - value(before, ACCEPTED), 0);
            assertEquals(1.0, value(after, QUEUED) - value(before, QUEUED), 0);
            assertEquals(1.0, value(after, RCPT_OK_CALLS) - value(before, RCPT_OK_CALLS), 0);
            assertEquals(1.0, value(after, MAILDIR_CALLS) - value(before, MAILDIR_CALLS), 0);
            assertTrue(after.toString(), value(after, "postern_message_size_bytes_sum") > value(before, "postern_message_size_bytes_sum"));
            assertEquals(0.0, value(after, "postern_hook_threads_held"), 0);
            assertTrue(after.toString(), after.containsKey("postern_sessions{state=\"idle\"}"));
            assertTrue(after.toString(), after.containsKey("jvm_threads_live_threads"));
        }
    }

    /** The first scrape, once the bundle deployed after the server's start answers it (404 until then). */
    private Map<String, Double> scrapeOnceUp(URI endpoint, ServerProcess postern) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            try {
                HttpResponse<String> response = get(endpoint);
                if (response.statusCode() == 200) {
                    assertEquals("text/plain; version=0.0.4; charset=utf-8", response.headers().firstValue("Content-Type").orElse(""));
                    return parse(response.body());
                }
            } catch (IOException notListeningYet) {
                // the HTTP service starts with the framework, a moment after the SMTP greeting
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError(endpoint + " did not answer within 30 s:\n" + postern.log());
            }
            Thread.sleep(200);
        }
    }

    private Map<String, Double> scrape(URI endpoint) throws Exception {
        HttpResponse<String> response = get(endpoint);
        assertEquals(response.body(), 200, response.statusCode());
        return parse(response.body());
    }

    private HttpResponse<String> get(URI endpoint) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Each series of a scrape in Prometheus' text format, with its value. */
    private static Map<String, Double> parse(String scrape) {
        Map<String, Double> series = new HashMap<>();
        for (String line : scrape.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                int space = line.lastIndexOf(' ');
                series.put(line.substring(0, space), Double.valueOf(line.substring(space + 1)));
            }
        }
        return series;
    }

    /** A series' value, 0 before its meter's first event (a counter not yet there has counted nothing). */
    private static double value(Map<String, Double> scrape, String series) {
        return scrape.getOrDefault(series, 0.0);
    }
}
