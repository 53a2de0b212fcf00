package org.postern.smtp.client.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;
import org.postern.smtp.client.ClientSettings;
import org.postern.smtp.client.Delivery.Stage;
import org.postern.smtp.client.Destination;
import org.postern.smtp.client.Reply;
import org.postern.smtp.client.TlsPolicy;

/**
 * Opens a connection and sets it up for messages: connect (each address of the host in turn), greeting, EHLO or
 * LHLO (HELO when an SMTP server does not know EHLO), STARTTLS and EHLO again as the TLS policy asks, AUTH.
 * Completes with the connection, or fails with a {@link SetupFailure} naming the stage and the reply.
 */
final class Connector {
    private final EventLoopGroup group;
    private final ClientSettings settings;
    private final Executor blocking;
    private final TlsContexts tls = new TlsContexts();

    Connector(EventLoopGroup group, ClientSettings settings, Executor blocking) {
        this.group = group;
        this.settings = settings;
        this.blocking = blocking;
    }

    CompletableFuture<Connection> open(Destination destination) {
        return open(destination, destination.tls());
    }

    /** With {@code policy} in place of the destination's: NONE for the second try after a failed opportunistic handshake. */
    private CompletableFuture<Connection> open(Destination destination, TlsPolicy policy) {
        AtomicReference<Stage> stage = new AtomicReference<>(Stage.CONNECT);
        AtomicReference<Connection> opened = new AtomicReference<>();
        CompletableFuture<Connection> ready = connect(destination)
                .thenCompose(connection -> {
                    opened.set(connection);
                    stage.set(Stage.GREETING);
                    return connection.greeting();
                })
                .thenCompose(greeting -> {
                    if (!greeting.isPositive()) {
                        return refused(opened.get(), Stage.GREETING, greeting);
                    }
                    stage.set(Stage.HELLO);
                    return hello(opened.get());
                })
                .thenCompose(connection -> {
                    stage.set(Stage.STARTTLS);
                    return secure(connection, policy);
                })
                .thenCompose(connection -> {
                    stage.set(Stage.AUTH);
                    return authenticate(connection);
                });
        return ready.handle((connection, error) -> {
            if (error == null) {
                return CompletableFuture.completedFuture(connection);
            }
            Throwable cause = Failures.unwrap(error);
            if (cause instanceof SetupFailure) {
                return CompletableFuture.<Connection>failedFuture(cause);
            }
            if (opened.get() != null) {
                opened.get().abort(cause);
            }
            if (policy == TlsPolicy.MAY && stage.get() == Stage.STARTTLS) {
                return open(destination, TlsPolicy.NONE);
            }
            return CompletableFuture.<Connection>failedFuture(new SetupFailure(stage.get(), Failures.reply(cause, destination)));
        }).thenCompose(next -> next);
    }

    /**
     * Connects to the server, and only that, within {@code timeout}: completes with its greeting (and says QUIT), or
     * fails with the reply for what went wrong, as {@link org.postern.smtp.client.SmtpClient#greet} does.
     */
    CompletableFuture<Reply> greet(Destination destination, Duration timeout) {
        Duration connectTimeout = timeout.compareTo(settings.connectTimeout()) < 0 ? timeout : settings.connectTimeout();
        return connect(destination, connectTimeout, timeout)
                .thenCompose(connection -> connection.greeting().whenComplete((greeting, error) -> {
                    // a connection that failed has closed itself
                    if (error == null) {
                        connection.quit(timeout);
                    }
                }))
                // bounds the name lookup and the tries of several addresses, which have no timeout of their own
                .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .handle((greeting, error) -> {
                    if (error == null && greeting.isPositive()) {
                        return greeting;
                    }
                    Reply refusal = error == null ? greeting : Failures.reply(withWhat(Failures.unwrap(error), timeout), destination);
                    throw new CompletionException(new IOException(refusal.toString()));
                });
    }

    /** The failure, but for orTimeout's TimeoutException, which says nothing: that one says what did not come. */
    private static Throwable withWhat(Throwable cause, Duration timeout) {
        return cause instanceof TimeoutException && cause.getMessage() == null
                ? new TimeoutException("no greeting within " + timeout.toMillis() + " ms") : cause;
    }

    private CompletableFuture<Connection> connect(Destination destination) {
        return connect(destination, settings.connectTimeout(), settings.commandTimeout());
    }

    private CompletableFuture<Connection> connect(Destination destination, Duration connectTimeout, Duration greetingTimeout) {
        if (destination.socket() != null) {
            return connect(destination, List.of(UnixDomainSocketAddress.of(destination.socket())), 0, connectTimeout, greetingTimeout);
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                return Arrays.stream(InetAddress.getAllByName(destination.host()))
                        .map(address -> (SocketAddress) new InetSocketAddress(address, destination.port())).toList();
            } catch (UnknownHostException e) {
                throw new CompletionException(e);
            }
        }, blocking).thenCompose(addresses -> connect(destination, addresses, 0, connectTimeout, greetingTimeout));
    }

    /** Tries the addresses in turn; fails with the last one's error. */
    private CompletableFuture<Connection> connect(Destination destination, List<SocketAddress> addresses, int index,
            Duration connectTimeout, Duration greetingTimeout) {
        CompletableFuture<Connection> connected = new CompletableFuture<>();
        AtomicReference<Connection> made = new AtomicReference<>();
        boolean unix = addresses.get(index) instanceof UnixDomainSocketAddress;
        Bootstrap bootstrap = new Bootstrap().group(group)
                .channel(unix ? NioDomainSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        made.set(new Connection(destination, channel, greetingTimeout));
                    }
                });
        if (!unix) {
            bootstrap.option(ChannelOption.TCP_NODELAY, true);
        }
        bootstrap.connect(addresses.get(index)).addListener(done -> {
            if (done.isSuccess()) {
                connected.complete(made.get());
            } else if (index + 1 < addresses.size()) {
                connect(destination, addresses, index + 1, connectTimeout, greetingTimeout).whenComplete((next, error) -> {
                    if (error != null) {
                        connected.completeExceptionally(error);
                    } else {
                        connected.complete(next);
                    }
                });
            } else {
                connected.completeExceptionally(done.cause());
            }
        });
        return connected;
    }

    /**
     * EHLO (LHLO for LMTP) and the extensions it lists; an SMTP server that does not know EHLO (500 to 504) gets
     * HELO, and then no extension is used.
     */
    CompletableFuture<Connection> hello(Connection connection) {
        return hello(connection, connection.destination.heloName());
    }

    /** {@link #hello(Connection)} with this name (after XCLIENT: the name of the client it speaks for). */
    CompletableFuture<Connection> hello(Connection connection, String name) {
        Destination destination = connection.destination;
        boolean lmtp = destination.protocol() == Destination.Protocol.LMTP;
        return connection.command((lmtp ? "LHLO " : "EHLO ") + name, settings.commandTimeout())
                .thenCompose(reply -> {
                    if (reply.isPositive()) {
                        connection.extensions = Extensions.parse(reply);
                        return CompletableFuture.completedFuture(connection);
                    }
                    if (lmtp || reply.code() < 500 || reply.code() > 504) {
                        return refused(connection, Stage.HELLO, reply);
                    }
                    return connection.command("HELO " + name, settings.commandTimeout()).thenCompose(helo -> {
                        connection.extensions = Extensions.NONE;
                        return helo.isPositive() ? CompletableFuture.completedFuture(connection) : refused(connection, Stage.HELLO, helo);
                    });
                });
    }

    /** STARTTLS as the policy asks, then EHLO again (RFC 3207: what the server said before TLS is forgotten). */
    private CompletableFuture<Connection> secure(Connection connection, TlsPolicy policy) {
        Destination destination = connection.destination;
        if (policy == TlsPolicy.NONE) {
            return CompletableFuture.completedFuture(connection);
        }
        if (!connection.extensions.has("STARTTLS")) {
            return policy == TlsPolicy.MAY ? CompletableFuture.completedFuture(connection)
                    : refused(connection, Stage.STARTTLS,
                            Reply.of(451, "4.7.5", "TLS is required, but " + destination.address() + " does not offer STARTTLS"));
        }
        try {
            return connection.startTls(tls.forPolicy(policy, destination.trustedCertificates()), settings.commandTimeout())
                    .thenCompose(reply -> {
                        if (reply.code() == 220) {
                            return hello(connection);
                        }
                        return policy == TlsPolicy.MAY ? CompletableFuture.completedFuture(connection)
                                : refused(connection, Stage.STARTTLS, reply);
                    });
        } catch (SSLException e) {
            return refused(connection, Stage.STARTTLS, Reply.of(451, "4.7.5", e.getMessage()));
        }
    }

    /** AUTH PLAIN, else LOGIN (RFC 4954, 4616), never over clear text unless the destination allows it. */
    private CompletableFuture<Connection> authenticate(Connection connection) {
        Destination destination = connection.destination;
        if (destination.user() == null) {
            return CompletableFuture.completedFuture(connection);
        }
        if (!connection.tls && !destination.authWithoutTls()) {
            return refused(connection, Stage.AUTH, Reply.of(451, "4.7.11",
                    "Credentials for " + destination.address() + " are not sent without TLS"));
        }
        Set<String> mechanisms = connection.extensions.words("AUTH");
        CompletableFuture<Reply> done;
        if (mechanisms.contains("PLAIN")) {
            done = connection.command("AUTH PLAIN " + base64("\0" + destination.user() + "\0" + destination.password()), "AUTH PLAIN ***",
                    settings.commandTimeout());
        } else if (mechanisms.contains("LOGIN")) {
            done = connection.command("AUTH LOGIN", settings.commandTimeout())
                    .thenCompose(user -> user.code() != 334 ? CompletableFuture.completedFuture(user)
                            : connection.command(base64(destination.user()), "***", settings.commandTimeout()))
                    .thenCompose(password -> password.code() != 334 ? CompletableFuture.completedFuture(password)
                            : connection.command(base64(destination.password()), "***", settings.commandTimeout()));
        } else {
            return refused(connection, Stage.AUTH, Reply.of(451, "4.3.5", destination.address()
                    + (mechanisms.isEmpty() ? " does not offer AUTH" : " offers neither AUTH PLAIN nor LOGIN but " + mechanisms)));
        }
        return done.thenCompose(reply -> reply.code() == 235 ? CompletableFuture.completedFuture(connection)
                : refused(connection, Stage.AUTH, reply));
    }

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Ends a connection the server refused (politely: QUIT) and fails with the stage and reply. */
    private CompletableFuture<Connection> refused(Connection connection, Stage stage, Reply reply) {
        connection.quit(settings.commandTimeout());
        return CompletableFuture.failedFuture(new SetupFailure(stage, reply));
    }
}
