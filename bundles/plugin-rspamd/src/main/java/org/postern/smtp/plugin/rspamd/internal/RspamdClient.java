package org.postern.smtp.plugin.rspamd.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * rspamd's HTTP protocol on the JDK's asynchronous client: {@code POST /checkv2} with the message streamed as the
 * request body, and {@code GET /ping}. Each call is bounded as a whole by the timeout; nothing waits in a thread of the
 * caller's. The client's own threads (two, daemons) read the message from the spool as rspamd takes it in.
 */
final class RspamdClient {
    /** An answer longer than this is not rspamd's; its JSON for a message is a few kilobytes. */
    static final int MAX_ANSWER = 1 << 20;

    private final String where;
    private final URI check;
    private final URI ping;
    private final Duration timeout;
    private final ExecutorService threads;
    private final HttpClient http;

    RspamdClient(String host, int port, Duration connectTimeout, Duration timeout) {
        String authority = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        this.where = authority;
        this.check = URI.create("http://" + authority + "/checkv2");
        this.ping = URI.create("http://" + authority + "/ping");
        this.timeout = timeout;
        AtomicInteger count = new AtomicInteger();
        this.threads = Executors.newFixedThreadPool(2, task -> {
            Thread thread = new Thread(task, "rspamd-client-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER).executor(threads).build();
    }

    /** host:port, for log lines and the health check. */
    String where() {
        return where;
    }

    /**
     * Sends the message with these request headers (each name with one or more values, sent as that many lines) and
     * completes with rspamd's answer; exceptionally with {@link TimeoutException} when the whole call took longer
     * than the timeout, {@link RspamdAnswer.Malformed} for an answer that is not rspamd's, {@link IOException} for
     * the rest. The message stream is closed when the call ends.
     */
    CompletionStage<RspamdAnswer> check(Map<String, List<String>> headers, InputStream message) {
        // the publisher asks for the stream on each subscription: there is one, as a POST is never retried
        HttpRequest.Builder request = HttpRequest.newBuilder(check).timeout(timeout)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> message));
        headers.forEach((name, values) -> values.forEach(value -> request.header(name, value)));
        return bounded(request.build()).whenComplete((response, error) -> closeQuietly(message)).thenCompose(response -> {
            try {
                if (response.statusCode() != 200) {
                    throw new IOException("rspamd answered HTTP " + response.statusCode()
                            + (response.body().isBlank() ? "" : ": " + response.body().strip()));
                }
                return CompletableFuture.completedFuture(RspamdAnswer.parse(response.body()));
            } catch (IOException e) {
                return CompletableFuture.failedFuture(e);
            }
        });
    }

    /** {@code GET /ping}: completes with {@code pong}, or exceptionally with what came instead. */
    CompletionStage<String> ping(Duration pingTimeout) {
        HttpRequest request = HttpRequest.newBuilder(ping).timeout(pingTimeout).GET().build();
        return bounded(request).thenCompose(response -> {
            String body = response.body().strip();
            return response.statusCode() == 200 && body.equals("pong") ? CompletableFuture.completedFuture(body)
                    : CompletableFuture.failedFuture(new IOException("rspamd answered HTTP " + response.statusCode() + ": " + body));
        });
    }

    /**
     * The exchange, cancelled (which ends it in the client) when it outlasts the request's timeout, which alone would
     * not bound the reading of the answer.
     */
    private CompletableFuture<HttpResponse<String>> bounded(HttpRequest request) {
        long millis = request.timeout().orElse(timeout).toMillis();
        CompletableFuture<HttpResponse<String>> exchange = http.sendAsync(request, info -> limited());
        CompletableFuture<HttpResponse<String>> result = exchange.copy();
        result.orTimeout(millis, TimeUnit.MILLISECONDS).whenComplete((response, error) -> {
            if (error instanceof TimeoutException) {
                exchange.cancel(true);
            }
        });
        return result;
    }

    /** The answer as text, refused beyond {@link #MAX_ANSWER} so that a peer that is not rspamd cannot fill the memory. */
    private static HttpResponse.BodySubscriber<String> limited() {
        HttpResponse.BodySubscriber<String> text = HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8);
        return new HttpResponse.BodySubscriber<>() {
            private Flow.Subscription subscription;
            private long received;
            private boolean refused;

            @Override
            public CompletionStage<String> getBody() {
                return text.getBody();
            }

            @Override
            public void onSubscribe(Flow.Subscription given) {
                subscription = given;
                text.onSubscribe(given);
            }

            @Override
            public void onNext(List<ByteBuffer> buffers) {
                received += buffers.stream().mapToLong(ByteBuffer::remaining).sum();
                if (refused) {
                    return;
                }
                if (received > MAX_ANSWER) {
                    refused = true;
                    subscription.cancel();
                    text.onError(new IOException("answer longer than " + MAX_ANSWER + " octets"));
                    return;
                }
                text.onNext(buffers);
            }

            @Override
            public void onError(Throwable error) {
                if (!refused) {
                    text.onError(error);
                }
            }

            @Override
            public void onComplete() {
                if (!refused) {
                    text.onComplete();
                }
            }
        };
    }

    private static void closeQuietly(InputStream message) {
        try {
            message.close();
        } catch (IOException ignored) {
            // the spool file is deleted with the transaction; nothing is lost by a failed close
        }
    }

    void close() {
        threads.shutdownNow();
    }
}
