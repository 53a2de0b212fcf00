package org.postern.smtp.itests;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Predicate;

/** A server's {@code /health} page (the health bundle's), read as a load balancer reads it. */
final class Health {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** One answer: its HTTP status and its lines, one per check. */
    record Page(int status, String body) {
        long lines(String prefix) {
            return body.lines().filter(line -> line.startsWith(prefix)).count();
        }
    }

    private Health() {
    }

    static Page get(ServerProcess server) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + "/health"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        return new Page(response.statusCode(), response.body());
    }

    /**
     * Reads the page until it is as {@code expected} says, within 30 s: the HTTP service, the health bundle and the
     * plugins' peer checks come up a moment after the server greets, and go a moment after their bundle or
     * configuration does.
     */
    static Page await(ServerProcess server, String what, Predicate<Page> expected) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        String last = "nothing";
        while (System.currentTimeMillis() < deadline) {
            try {
                Page page = get(server);
                if (expected.test(page)) {
                    return page;
                }
                last = page.status() + "\n" + page.body();
            } catch (IOException notYet) {
                last = notYet.toString();
            }
            Thread.sleep(200);
        }
        throw new AssertionError("/health did not show " + what + " within 30 s; last answer: " + last + "\n" + server.log());
    }
}
