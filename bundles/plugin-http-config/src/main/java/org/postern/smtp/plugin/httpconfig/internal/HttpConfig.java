package org.postern.smtp.plugin.httpconfig.internal;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.ConfigContext;
import org.postern.smtp.api.ConfigHook;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Answers config items from HTTP, as qpsmtpd's {@code http_config}: each URL template is tried in turn with the
 * item's name; the first 200 answer's lines are the values. Answers, and failures, are cached, so a slow or
 * unreachable server costs at most one timeout per item and cache period. Each exchange, body included, is
 * bounded by the timeout and the body by a size cap; an item is fetched by one thread at a time, and a failed
 * refresh keeps the last good values.
 */
@Component(service = ConfigHook.class, configurationPid = HttpConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = HttpConfig.Config.class)
@PosternPlugin("http_config")
@PosternHook("config")
@HookOrder(100)
public final class HttpConfig implements ConfigHook {
    static final String PID = "org.postern.smtp.plugin.http_config";

    @ObjectClassDefinition(name = "Postern plugin: http_config")
    public @interface Config {
        @AttributeDefinition(description = "URL templates, tried in order: {item} is replaced by the item's name; without it the name is appended")
        String[] urls();

        @AttributeDefinition(description = "Milliseconds one HTTP exchange may take: connecting, the headers and the whole body")
        int timeout_ms() default 2000;

        @AttributeDefinition(description = "Seconds an answer is reused")
        int cache_seconds() default 300;

        @AttributeDefinition(description = "Seconds a miss or a failure is remembered before the URLs are asked again")
        int miss_cache_seconds() default 60;

        @AttributeDefinition(description = "Largest answer body read, in bytes; a larger answer is a failure")
        int max_bytes() default 65536;

        @AttributeDefinition(description = "Allow plain http:// URLs; otherwise only https is accepted")
        boolean allow_http() default false;
    }

    /** The configuration in the units the plugin works with. */
    record Settings(List<String> urls, Duration timeout, long cacheMillis, long missCacheMillis, int maxBytes, boolean allowHttp) {
        static Settings of(Config config) {
            return new Settings(List.of(config.urls()), Duration.ofMillis(config.timeout_ms()), config.cache_seconds() * 1000L,
                    config.miss_cache_seconds() * 1000L, config.max_bytes(), config.allow_http());
        }
    }

    private record Cached(List<String> values, long expiresMillis) {
        static final Cached NOTHING = new Cached(List.of(), 0);
    }

    private enum Outcome { FOUND, MISSING, FAILED }

    /** What asking gave: the values when found; MISSING for 404 (from every URL, for a whole fetch); else FAILED. */
    private record Answer(Outcome outcome, List<String> values) {
        static final Answer MISSING = new Answer(Outcome.MISSING, List.of());
        static final Answer FAILED = new Answer(Outcome.FAILED, List.of());
    }

    private final List<String> urls;
    private final Duration timeout;
    private final long cacheMillis;
    private final long missCacheMillis;
    private final int maxBytes;
    private final LongSupplier clock;
    private final ExecutorService executor;
    private final HttpClient client;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<Cached>> fetchesInFlight = new ConcurrentHashMap<>();

    @Activate
    public HttpConfig(Config config) {
        this(Settings.of(config), System::currentTimeMillis);
    }

    HttpConfig(Settings settings, LongSupplier clock) {
        this.urls = settings.urls().stream().map(String::strip).filter(url -> !url.isEmpty()).toList();
        if (!settings.allowHttp()) {
            requireHttps(urls);
        }
        this.timeout = settings.timeout();
        this.cacheMillis = settings.cacheMillis();
        this.missCacheMillis = settings.missCacheMillis();
        this.maxBytes = settings.maxBytes();
        this.clock = clock;
        // Its own threads, so that deactivate can stop them: HttpClient has no close() before Java 21.
        this.executor = Executors.newCachedThreadPool(HttpConfig::daemonThread);
        this.client = HttpClient.newBuilder().executor(executor).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @Deactivate
    void deactivate() {
        if (client instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                // nothing more to do: shutting the executor down stops what the client has left
            }
        }
        executor.shutdownNow();
    }

    @Override
    public HookResult onConfig(ConfigContext ctx) {
        String item = ctx.item();
        Cached cached = cache.get(item);
        if (!isFresh(cached)) {
            cached = refresh(ctx, item);
        }
        return cached.values().isEmpty() ? HookResult.declined() : HookResult.ok(cached.values());
    }

    private boolean isFresh(Cached cached) {
        return cached != null && cached.expiresMillis() > clock.getAsLong();
    }

    /** Fetches the item, or waits for the fetch another thread has under way: the server sees one request at a time. */
    private Cached refresh(ConfigContext ctx, String item) {
        CompletableFuture<Cached> mine = new CompletableFuture<>();
        CompletableFuture<Cached> running = fetchesInFlight.putIfAbsent(item, mine);
        if (running != null) {
            return awaitFetch(ctx, item, running);
        }
        try {
            Cached fresh = fetchAndStore(ctx, item);
            mine.complete(fresh);
            return fresh;
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            fetchesInFlight.remove(item, mine);
        }
    }

    private Cached awaitFetch(ConfigContext ctx, String item, CompletableFuture<Cached> running) {
        try {
            return running.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            ctx.log(LogLevel.WARN, "config item " + item + ": the fetch under way gave no answer within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            ctx.log(LogLevel.WARN, "config item " + item + ": the fetch under way failed: " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return cache.getOrDefault(item, Cached.NOTHING);
    }

    private Cached fetchAndStore(ConfigContext ctx, String item) {
        Cached previous = cache.get(item);
        if (isFresh(previous)) {
            return previous; // stored by a fetch that ended between our look at the cache and our claim of the item
        }
        Answer answer = fetch(ctx, item);
        boolean failed = answer.outcome() == Outcome.FAILED;
        List<String> values = failed && previous != null ? previous.values() : answer.values();
        if (failed && !values.isEmpty()) {
            ctx.log(LogLevel.WARN, "config item " + item + ": refresh failed, keeping the last good value(s) for "
                    + missCacheMillis / 1000 + " s");
        }
        Cached next = new Cached(values, clock.getAsLong() + (failed || values.isEmpty() ? missCacheMillis : cacheMillis));
        cache.put(item, next);
        return next;
    }

    private Answer fetch(ConfigContext ctx, String item) {
        String encoded = URLEncoder.encode(item, StandardCharsets.UTF_8);
        boolean failed = false;
        for (String template : urls) {
            String url = template.contains("{item}") ? template.replace("{item}", encoded) : template + encoded;
            Answer answer = ask(ctx, item, url);
            if (answer.outcome() == Outcome.FOUND || Thread.currentThread().isInterrupted()) {
                return answer; // an interrupted hook thread is being stopped: ask no further
            }
            failed |= answer.outcome() == Outcome.FAILED;
        }
        return failed ? Answer.FAILED : Answer.MISSING;
    }

    /** Asks one URL; the timeout bounds the whole exchange, so a server dripping its body cannot hold the thread. */
    private Answer ask(ConfigContext ctx, String item, String url) {
        CompletableFuture<HttpResponse<Optional<String>>> exchange;
        try {
            // only a 200 answer's body is wanted: any other is dropped at its first byte
            exchange = client.sendAsync(HttpRequest.newBuilder(URI.create(url)).GET().build(),
                    info -> new CappedBody(info.statusCode() == 200 ? maxBytes : 0));
        } catch (IllegalArgumentException e) {
            ctx.log(LogLevel.WARN, "config item " + item + ": " + url + " failed: " + e);
            return Answer.FAILED;
        }
        try {
            return answer(ctx, item, url, exchange.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            exchange.cancel(true);
            ctx.log(LogLevel.WARN, "config item " + item + ": " + url + " failed: no complete answer within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            ctx.log(LogLevel.WARN, "config item " + item + ": " + url + " failed: " + e.getCause());
        } catch (InterruptedException e) {
            exchange.cancel(true);
            Thread.currentThread().interrupt();
        }
        return Answer.FAILED;
    }

    private Answer answer(ConfigContext ctx, String item, String url, HttpResponse<Optional<String>> response) {
        int status = response.statusCode();
        if (status == 404) {
            return Answer.MISSING;
        }
        if (status != 200) {
            ctx.log(LogLevel.WARN, "config item " + item + ": " + url + " answered HTTP " + status
                    + (status / 100 == 3 ? " (redirects are not followed)" : ""));
            return Answer.FAILED;
        }
        Optional<String> body = response.body();
        if (body.isEmpty()) {
            ctx.log(LogLevel.WARN, "config item " + item + ": " + url + " answered more than " + maxBytes + " bytes");
            return Answer.FAILED;
        }
        List<String> values = body.get().lines().map(String::strip).filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
        ctx.log(LogLevel.DEBUG, "config item " + item + " from " + url + ": " + values.size() + " value(s)");
        return new Answer(Outcome.FOUND, values);
    }

    private static void requireHttps(List<String> urls) {
        for (String url : urls) {
            if (url.regionMatches(true, 0, "http://", 0, "http://".length())) {
                throw new IllegalArgumentException("key 'urls': " + url + " is plain HTTP; use https or set allow.http = true");
            }
        }
    }

    /** Daemon, so a client that is never deactivated does not keep the JVM alive. */
    private static Thread daemonThread(Runnable task) {
        Thread thread = new Thread(task, "postern-http-config");
        thread.setDaemon(true);
        return thread;
    }

    /**
     * The body as UTF-8 text, or empty when it grew past the cap: then the download is cancelled at once, so a
     * huge answer costs no more than the cap in memory and traffic.
     */
    private static final class CappedBody implements HttpResponse.BodySubscriber<Optional<String>> {
        private final int maxBytes;
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();
        private final CompletableFuture<Optional<String>> body = new CompletableFuture<>();
        private Flow.Subscription subscription;

        CappedBody(int maxBytes) {
            this.maxBytes = maxBytes;
        }

        @Override
        public CompletionStage<Optional<String>> getBody() {
            return body;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            if (body.isDone()) {
                return; // cancelled: buffers already on their way may still arrive
            }
            for (ByteBuffer buffer : buffers) {
                if (received.size() + buffer.remaining() > maxBytes) {
                    subscription.cancel();
                    body.complete(Optional.empty());
                    return;
                }
                byte[] bytes = new byte[buffer.remaining()];
                buffer.get(bytes);
                received.writeBytes(bytes);
            }
        }

        @Override
        public void onError(Throwable error) {
            body.completeExceptionally(error);
        }

        @Override
        public void onComplete() {
            body.complete(Optional.of(received.toString(StandardCharsets.UTF_8)));
        }
    }
}
