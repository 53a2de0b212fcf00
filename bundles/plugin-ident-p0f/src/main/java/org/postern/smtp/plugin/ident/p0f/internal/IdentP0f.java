package org.postern.smtp.plugin.ident.p0f.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.ConnectHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.monitor.PeerCheck;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the p0f 3 daemon what it made of the client's TCP SYN, as qpsmtpd's {@code ident/p0f}: at {@code connect}
 * the client's address goes to p0f's API socket, and the answer becomes the connection note {@code p0f} and the log
 * line {@code <os> <flavor>}; with {@code smite_os}, a client whose OS matches loses a point of karma. Nothing is ever
 * refused. The hook answers {@link HookResult#later} when p0f has answered (asked twice when it did not know the client
 * yet), or at {@code timeout.ms}: a p0f that is down or slow delays the greeting by that at most. As a {@link PeerCheck}
 * it tells health checks whether p0f answers.
 */
@Component(service = {ConnectHook.class, PeerCheck.class}, configurationPid = IdentP0f.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = IdentP0f.Config.class)
@PosternPlugin("ident/p0f")
@PosternHook("connect")
@HookOrder(30)
public final class IdentP0f implements ConnectHook, PeerCheck {
    static final String PID = "org.postern.smtp.plugin.ident.p0f";

    /**
     * Connection note {@code p0f}: qpsmtpd's hash of the fingerprint, {@link P0fAnswer#note()}. A map of the JDK's, so
     * that any bundle reads it, with {@code NoteKey.of("p0f", Map.class)}.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static final NoteKey<Map<String, Object>> P0F = (NoteKey) NoteKey.of("p0f", Map.class);

    private static final Logger LOG = LoggerFactory.getLogger(IdentP0f.class);

    @ObjectClassDefinition(name = "Postern plugin: ident/p0f", description = "Notes the client's TCP fingerprint from the p0f 3 daemon")
    public @interface Config {
        @AttributeDefinition(description = "p0f's API socket, as given to p0f -s (qpsmtpd's first argument)")
        String p0f__socket() default "";

        @AttributeDefinition(description = "Case-insensitive regular expression: a client whose OS (name and flavor, "
                + "e.g. 'Windows 7 or 8') it finds costs a point of karma; empty: none")
        String smite__os() default "";

        @AttributeDefinition(description = "p0f's version; only 3 is supported")
        int version() default 3;

        @AttributeDefinition(description = "Accepted for qpsmtpd's configurations and ignored: only p0f 2's queries named "
                + "the server's address")
        String local__ip() default "";

        @AttributeDefinition(description = "Milliseconds p0f may take to answer; the greeting waits at most this long")
        int timeout_ms() default 1000;

        @AttributeDefinition(description = "p0f answering 'no match' is asked once more after this many milliseconds (within "
                + "timeout.ms), as it may not have read the client's SYN yet; 0: asked once, as qpsmtpd does")
        int no_match_retry_ms() default 100;
    }

    private final P0fClient p0f;
    private final Pattern smiteOs;
    private final Duration timeout;
    private final Duration noMatchRetry;

    @Activate
    public IdentP0f(Config config) {
        if (config.p0f__socket().isBlank()) {
            throw new IllegalArgumentException(PID + ": p0f_socket is not set; give the path of p0f's API socket (p0f -s)");
        }
        if (config.version() != 3 && config.version() != 0) {
            throw new IllegalArgumentException(PID + ": p0f version " + config.version() + " is not supported, only version 3");
        }
        if (config.timeout_ms() <= 0 || config.no_match_retry_ms() < 0) {
            throw new IllegalArgumentException(PID + ": timeout.ms must be positive, no.match.retry.ms not negative");
        }
        if (!config.local__ip().isBlank()) {
            LOG.warn("{}: local_ip is ignored: p0f 3 is asked about the client's address alone", PID);
        }
        smiteOs = PluginConventions.perlTrue(config.smite__os()) ? Pattern.compile(config.smite__os(), Pattern.CASE_INSENSITIVE) : null;
        timeout = Duration.ofMillis(config.timeout_ms());
        noMatchRetry = Duration.ofMillis(config.no_match_retry_ms());
        p0f = new P0fClient(Path.of(config.p0f__socket().strip()));
    }

    @Deactivate
    void deactivate() {
        p0f.close();
    }

    @Override
    public HookResult onConnect(HookContext ctx) {
        InetAddress client = ctx.session().remoteAddress().getAddress();
        return HookResult.later(fingerprint(ctx, client).handle((answer, error) -> error == null ? store(ctx, answer) : failed(ctx, error)));
    }

    /**
     * p0f's answer about the client, within the timeout. p0f reads the client's SYN from its capture some milliseconds
     * after the kernel has it, and a client asked about at once (over loopback, or without a reverse DNS lookup before
     * connect) may be unknown to it yet: a "no match" is asked again once, {@code no.match.retry.ms} later.
     */
    private CompletableFuture<P0fAnswer> fingerprint(HookContext ctx, InetAddress client) {
        long deadline = System.nanoTime() + timeout.toNanos();
        return p0f.ask(client, timeout).thenApply(P0fApi::answer).thenCompose(answer -> {
            Duration left = Duration.ofNanos(deadline - System.nanoTime()).minus(noMatchRetry);
            if (answer.status() != P0fApi.STATUS_NO_MATCH || noMatchRetry.isZero() || left.isNegative() || left.isZero()) {
                return CompletableFuture.completedFuture(answer);
            }
            ctx.log(LogLevel.DEBUG, "no match yet, asking again in " + noMatchRetry.toMillis() + " ms");
            Executor later = CompletableFuture.delayedExecutor(noMatchRetry.toMillis(), TimeUnit.MILLISECONDS);
            return CompletableFuture.supplyAsync(() -> client, later).thenCompose(host -> p0f.ask(host, left)).thenApply(P0fApi::answer);
        });
    }

    private HookResult store(HookContext ctx, P0fAnswer answer) {
        if (answer.magic() != P0fApi.ANSWER_MAGIC) {
            ctx.log(LogLevel.ERROR, "skip, Bad response magic.");
            return HookResult.declined();
        }
        if (answer.status() == P0fApi.STATUS_NO_MATCH) {
            ctx.log(LogLevel.INFO, "skip, no match");
            return HookResult.declined();
        }
        if (answer.status() != P0fApi.STATUS_OK) {
            ctx.log(LogLevel.ERROR, answer.status() == P0fApi.STATUS_BAD_QUERY ? "skip, bad query" : "skip, unknown status " + answer.status());
            return HookResult.declined();
        }
        ctx.log(LogLevel.DEBUG, "pass, query ok");
        if (smiteOs != null && answer.genre().filter(genre -> smiteOs.matcher(genre).find()).isPresent()) {
            PluginConventions.adjustKarma(ctx, -1);
        }
        ctx.session().notes().put(P0F, answer.note());
        ctx.log(LogLevel.INFO, answer.osName() + " " + answer.osFlavor());
        ctx.log(LogLevel.DEBUG, answer.values().stream().map(String::valueOf).collect(Collectors.joining(" ")));
        return HookResult.declined();
    }

    private HookResult failed(HookContext ctx, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        boolean plain = (cause instanceof IOException || cause instanceof TimeoutException) && cause.getMessage() != null;
        ctx.log(LogLevel.ERROR, "skip, " + (plain ? cause.getMessage() : cause.toString()));
        return HookResult.declined();
    }

    @Override
    public String peer() {
        return "p0f " + p0f.where();
    }

    /** Asks p0f about 127.0.0.1: any answer of p0f's API, a fingerprint or none, shows p0f serving queries. */
    @Override
    public CompletionStage<String> probe(Duration timeout) {
        return p0f.ask(InetAddress.getLoopbackAddress(), timeout).thenApply(octets -> {
            P0fAnswer answer = P0fApi.answer(octets);
            if (answer.magic() != P0fApi.ANSWER_MAGIC) {
                throw new CompletionException(new IOException("not p0f 3's API: magic 0x" + Long.toHexString(answer.magic())));
            }
            return "status 0x" + Long.toHexString(answer.status());
        });
    }
}
