package org.postern.store.redis.internal;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.monitor.PeerCheck;
import org.postern.smtp.api.store.StateStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state store on a Redis server, shared by every node that points at it. Each call is one Redis command sent
 * on one multiplexed connection (Lettuce's async API); its stage completes on Lettuce's I/O thread when Redis
 * answers, or fails after the command timeout. Lettuce reconnects a lost connection by itself; a connection that
 * could not be made at all is tried again by the next call. As a {@link PeerCheck} it tells health checks whether
 * Redis answers PING.
 */
@Component(service = {StateStore.class, PeerCheck.class}, configurationPid = RedisStateStore.PID)
@Designate(ocd = RedisStateStore.Config.class)
public final class RedisStateStore implements StateStore, PeerCheck {
    static final String PID = "org.postern.store.redis";
    private static final String DEFAULT_URI = "redis://127.0.0.1:6379";
    private static final int DEFAULT_TIMEOUT_MS = 2000;
    /** INCRBY and PEXPIRE in one script: Redis runs a script alone, so no node sees the sum without its expiry. */
    private static final String ADD_SCRIPT = "local sum = redis.call('INCRBY', KEYS[1], ARGV[1]) "
            + "redis.call('PEXPIRE', KEYS[1], ARGV[2]) return sum";
    private static final Logger LOG = LoggerFactory.getLogger(RedisStateStore.class);

    @ObjectClassDefinition(name = "Postern store: Redis",
            description = "Keeps the plugins' shared state (greylisting, karma, counters) on a Redis server")
    public @interface Config {
        @AttributeDefinition(description = "The server, as a Redis URI: redis://[[user]:password@]host[:port][/database], "
                + "rediss:// for TLS")
        String uri() default DEFAULT_URI;

        @AttributeDefinition(description = "Milliseconds a command, or connecting, may take before its call fails; "
                + "at least 1")
        int timeout_ms() default DEFAULT_TIMEOUT_MS;

        @AttributeDefinition(description = "Put in front of every key, so that several programs can share a server")
        String key_prefix() default "postern:";
    }

    private final ClientResources resources;
    private final RedisClient client;
    private final RedisURI uri;
    /** The server as the log names it: the URI as configured, its password masked. */
    private final String server;
    private final String prefix;
    /** The connection, or the attempt to make it; a failed attempt is replaced by the next call. */
    private final AtomicReference<CompletableFuture<StatefulRedisConnection<String, String>>> connection;

    @Activate
    public RedisStateStore(Config config) {
        this(uri(config.uri()), timeout(config), config.key_prefix());
    }

    RedisStateStore(RedisURI uri, Duration timeout, String prefix) {
        this.uri = uri;
        this.prefix = prefix;
        // before the timeout goes into the URI, whose text would then show it
        this.server = uri.toString();
        // bounds the connection's handshake (HELLO, AUTH, SELECT) as well
        uri.setTimeout(timeout);
        this.resources = ClientResources.builder()
                // Lettuce's least: one connection uses one I/O thread; its default is one per processor
                .ioThreadPoolSize(2).computationThreadPoolSize(2)
                // Lettuce's default backs off to 30 s: that long without a store after Redis is back
                .reconnectDelay(Delay.exponential(Duration.ofMillis(100), Duration.ofSeconds(5), 2, TimeUnit.MILLISECONDS))
                .build();
        this.client = RedisClient.create(resources, uri);
        client.setOptions(ClientOptions.builder()
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .socketOptions(SocketOptions.builder().connectTimeout(timeout).keepAlive(true).build())
                // while Redis is away, calls fail at once instead of waiting in memory for it
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .build());
        this.connection = new AtomicReference<>(CompletableFuture.failedFuture(new IllegalStateException("not connected")));
        connected();
    }

    static RedisURI uri(String configured) {
        try {
            return RedisURI.create(configured.strip());
        } catch (RuntimeException e) {
            // not the value itself: it may hold a password
            LOG.error("configuration {}: key 'uri': no Redis URI ({}); using {}", PID, e.getMessage(), DEFAULT_URI);
            return RedisURI.create(DEFAULT_URI);
        }
    }

    static Duration timeout(Config config) {
        if (config.timeout_ms() >= 1) {
            return Duration.ofMillis(config.timeout_ms());
        }
        LOG.error("configuration {}: key 'timeout.ms': {} is less than 1; using {}", PID, config.timeout_ms(),
                DEFAULT_TIMEOUT_MS);
        return Duration.ofMillis(DEFAULT_TIMEOUT_MS);
    }

    @Deactivate
    void close() {
        // closes the connection and waits for Lettuce's threads to end, so that a new configuration starts clean
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    @Override
    public CompletionStage<Optional<String>> get(String key) {
        return send(redis -> redis.get(prefix + key).thenApply(Optional::ofNullable));
    }

    @Override
    public CompletionStage<Void> put(String key, String value, Duration ttl) {
        return send(redis -> redis.set(prefix + key, value, SetArgs.Builder.px(milliseconds(ttl)))
                .thenApply(ok -> null));
    }

    @Override
    public CompletionStage<Long> add(String key, long delta, Duration ttl) {
        return send(redis -> redis.<Long>eval(ADD_SCRIPT, ScriptOutputType.INTEGER, new String[] {prefix + key},
                Long.toString(delta), Long.toString(milliseconds(ttl))));
    }

    @Override
    public CompletionStage<Boolean> remove(String key) {
        return send(redis -> redis.del(prefix + key).thenApply(removed -> removed > 0));
    }

    @Override
    public String peer() {
        return "Redis " + server;
    }

    /** PING on the store's own connection (connecting first if need be), within {@code timeout}: Redis's PONG. */
    @Override
    public CompletionStage<String> probe(Duration timeout) {
        return send(redis -> redis.ping()).toCompletableFuture().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The command's stage once connected; a failed stage when there is no connection or the arguments are wrong. */
    private <T> CompletionStage<T> send(Function<RedisAsyncCommands<String, String>, CompletionStage<T>> command) {
        return connected().thenCompose(ready -> command.apply(ready.async()));
    }

    private CompletableFuture<StatefulRedisConnection<String, String>> connected() {
        CompletableFuture<StatefulRedisConnection<String, String>> current = connection.get();
        if (!current.isCompletedExceptionally()) {
            return current;
        }
        CompletableFuture<StatefulRedisConnection<String, String>> attempt = new CompletableFuture<>();
        if (!connection.compareAndSet(current, attempt)) {
            // another call started the attempt
            return connection.get();
        }
        client.connectAsync(StringCodec.UTF8, uri).whenComplete((made, failure) -> {
            if (failure != null) {
                LOG.warn("cannot connect to {}: {}", server, failure.toString());
                attempt.completeExceptionally(failure);
            } else {
                LOG.info("state kept on {} under '{}'", server, prefix);
                attempt.complete(made);
            }
        });
        return attempt;
    }

    /** Redis takes whole milliseconds above 0; a positive time to live below one counts as one. */
    private static long milliseconds(Duration ttl) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("time to live must be positive: " + ttl);
        }
        return Math.max(1, ttl.toMillis());
    }
}
