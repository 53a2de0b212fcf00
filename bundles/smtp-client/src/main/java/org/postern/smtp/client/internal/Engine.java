package org.postern.smtp.client.internal;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.postern.smtp.client.ClientSettings;
import org.postern.smtp.client.Delivery;
import org.postern.smtp.client.Delivery.RecipientResult;
import org.postern.smtp.client.Delivery.Stage;
import org.postern.smtp.client.Destination;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.client.MessageSource;
import org.postern.smtp.client.Reply;

/** What {@link org.postern.smtp.client.SmtpClient} does: a pool per destination, a transfer per message. */
public final class Engine {
    private final ClientSettings settings;
    private final Executor blocking;
    private final EventLoopGroup group;
    private final Connector connector;
    private final ConcurrentHashMap<Destination, Pool> pools = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public Engine(ClientSettings settings, Executor blocking) {
        this.settings = settings;
        this.blocking = blocking;
        this.group = new MultiThreadIoEventLoopGroup(settings.ioThreads(), NioIoHandler.newFactory());
        this.connector = new Connector(group, settings, blocking);
    }

    public CompletionStage<Delivery> send(Destination destination, Envelope envelope, MessageSource message, BooleanSupplier commit) {
        try {
            if (!closed) {
                Pool pool = pools.computeIfAbsent(destination, key -> new Pool(key, connector, settings));
                return attempt(pool, destination, envelope, message, commit, eightBit(envelope, message), true);
            }
        } catch (RejectedExecutionException stopped) {
            // closed while this message started
        }
        return CompletableFuture.completedFuture(everyone(envelope, Stage.CONNECT, Reply.of(451, "4.3.0", "The SMTP client is closed")));
    }

    public CompletionStage<Reply> greet(Destination destination, Duration timeout) {
        try {
            if (!closed) {
                return connector.greet(destination, timeout);
            }
        } catch (RejectedExecutionException stopped) {
            // closed while the greeting was asked for
        }
        return CompletableFuture.failedFuture(new IOException(Reply.of(451, "4.3.0", "The SMTP client is closed").toString()));
    }

    /** Whether the message has 8-bit octets: as the envelope says, or as a first reading of it finds. */
    private CompletableFuture<Boolean> eightBit(Envelope envelope, MessageSource message) {
        return switch (envelope.body()) {
            case SEVEN_BIT -> CompletableFuture.completedFuture(false);
            case EIGHT_BIT_MIME -> CompletableFuture.completedFuture(true);
            case UNKNOWN -> CompletableFuture.supplyAsync(() -> {
                try (InputStream in = message.open()) {
                    return DotStuffer.hasEightBitOctets(in);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, blocking);
        };
    }

    private CompletableFuture<Delivery> attempt(Pool pool, Destination destination, Envelope envelope, MessageSource message,
            BooleanSupplier commit, CompletableFuture<Boolean> eightBit, boolean mayRetry) {
        return pool.acquire().handle((connection, error) -> {
            if (error != null) {
                Throwable cause = Failures.unwrap(error);
                Stage stage = cause instanceof SetupFailure setup ? setup.stage : Stage.CONNECT;
                return CompletableFuture.completedFuture(everyone(envelope, stage, Failures.reply(cause, destination)));
            }
            return eightBit.handle((hasEightBit, unreadable) -> {
                if (unreadable != null) {
                    pool.release(connection);
                    return CompletableFuture.completedFuture(everyone(envelope, Stage.MAIL,
                            Reply.of(451, "4.3.0", "Cannot read the message: " + Failures.unwrap(unreadable))));
                }
                Transfer transfer = new Transfer(connection, connector, envelope, message, commit, hasEightBit, settings, blocking);
                return transfer.run().thenCompose(delivery -> {
                    pool.release(connection);
                    return transfer.stale() && mayRetry ? attempt(pool, destination, envelope, message, commit, eightBit, false)
                            : CompletableFuture.completedFuture(delivery);
                });
            }).thenCompose(next -> next);
        }).thenCompose(next -> next);
    }

    private static Delivery everyone(Envelope envelope, Stage stage, Reply reply) {
        List<RecipientResult> results = new ArrayList<>();
        envelope.recipients().forEach(recipient -> results.add(new RecipientResult(recipient, reply, false)));
        return new Delivery(stage, reply, results);
    }

    public void close() {
        closed = true;
        pools.values().forEach(Pool::close);
        group.shutdownGracefully(100, 2000, TimeUnit.MILLISECONDS);
    }
}
