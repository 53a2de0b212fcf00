package org.postern.smtp.plugin.rspamd.internal;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for rspamd's normal worker on a loopback port, for the plugin's own logic: it answers {@code /checkv2} and
 * {@code /ping} as told, after an optional delay, and keeps the last request's headers and the start of its body.
 */
final class FakeRspamd implements AutoCloseable {
    static final int KEPT = 1 << 20;
    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile int status = 200;
    private volatile byte[] answer = "{}".getBytes(StandardCharsets.UTF_8);
    private volatile long delayMillis;
    private volatile long holdMillis;
    private volatile long bodyLength;
    private volatile Map<String, List<String>> headers = Map.of();
    private volatile byte[] body = new byte[0];
    private volatile String pong = "pong";

    private FakeRspamd() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(threads);
        server.createContext("/checkv2", exchange -> {
            Map<String, List<String>> received = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            received.putAll(exchange.getRequestHeaders());
            headers = received;
            hold(holdMillis);
            readBody(exchange);
            hold(delayMillis);
            respond(exchange, status, answer);
        });
        server.createContext("/ping", exchange -> respond(exchange, 200, pong.getBytes(StandardCharsets.US_ASCII)));
        server.start();
    }

    static FakeRspamd answering(String json) throws IOException {
        FakeRspamd rspamd = new FakeRspamd();
        rspamd.answer = json.getBytes(StandardCharsets.UTF_8);
        return rspamd;
    }

    FakeRspamd status(int code) {
        status = code;
        return this;
    }

    FakeRspamd answer(byte[] content) {
        answer = content;
        return this;
    }

    /** Holds each request this long, or until the server closes, before reading its body. */
    FakeRspamd holdBeforeReading(long millis) {
        holdMillis = millis;
        return this;
    }

    /** Holds each answer this long, or until the server closes. */
    FakeRspamd delay(long millis) {
        delayMillis = millis;
        return this;
    }

    FakeRspamd pong(String text) {
        pong = text;
        return this;
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** The headers of the last /checkv2 request, names case-insensitive. */
    Map<String, List<String>> headers() {
        return headers;
    }

    /** The body of the last request, its first {@link #KEPT} octets. */
    byte[] body() {
        return body;
    }

    long bodyLength() {
        return bodyLength;
    }

    /** Counts the whole body and keeps its start, so that a large one does not fill the test's memory. */
    private void readBody(HttpExchange exchange) throws IOException {
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        byte[] chunk = new byte[65536];
        long length = 0;
        try (InputStream in = exchange.getRequestBody()) {
            for (int read = in.read(chunk); read >= 0; read = in.read(chunk)) {
                kept.write(chunk, 0, (int) Math.max(0, Math.min(read, KEPT - length)));
                length += read;
            }
        }
        body = kept.toByteArray();
        bodyLength = length;
    }

    private void hold(long millis) {
        try {
            released.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void respond(HttpExchange exchange, int code, byte[] content) throws IOException {
        exchange.sendResponseHeaders(code, content.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(content);
        } catch (IOException clientGone) {
            // the plugin gave up waiting, which is what a timeout test wants
        }
    }

    @Override
    public void close() {
        released.countDown();
        server.stop(0);
        threads.shutdownNow();
    }
}
