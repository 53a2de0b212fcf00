package org.postern.smtp.plugin.milter.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Opens connections to one milter on Netty's NIO transport (TCP, or a Unix socket through Java 16's
 * UnixDomainSocketAddress, so no native transport is needed) and negotiates protocol version 6 on each.
 */
final class MilterClient implements AutoCloseable {
    /** Larger than any packet a milter sends without the MDS_* flags (a body chunk is at most 64 KiB, a header a few). */
    private static final int MAX_PACKET = 1 << 20;
    private static final Pattern INET = Pattern.compile("inet6?:(\\d+)(?:@(.+))?");

    /** A connection whose option negotiation succeeded, and what the milter asked for in it. */
    record Opened(MilterConnection connection, MilterReply.Negotiation negotiation) {
    }

    private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("postern-milter", true),
            NioIoHandler.newFactory());
    private final SocketAddress address;
    private final Bootstrap bootstrap;
    private final long timeoutMillis;

    MilterClient(SocketAddress address, int connectTimeoutMillis, long timeoutMillis) {
        this.address = address;
        this.timeoutMillis = timeoutMillis;
        bootstrap = new Bootstrap().group(loop)
                .channel(address instanceof UnixDomainSocketAddress ? NioDomainSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis);
    }

    /**
     * The milter's address as Postfix's smtpd_milters writes it: {@code inet:port@host} ({@code inet:port} is
     * localhost) or {@code unix:/path}; a bare path is a Unix socket too.
     */
    static SocketAddress parse(String socket) {
        String spec = socket.strip();
        Matcher inet = INET.matcher(spec);
        if (inet.matches()) {
            return InetSocketAddress.createUnresolved(inet.group(2) == null ? "localhost" : inet.group(2), Integer.parseInt(inet.group(1)));
        }
        if (spec.startsWith("unix:") || spec.startsWith("local:")) {
            return UnixDomainSocketAddress.of(Path.of(spec.substring(spec.indexOf(':') + 1)));
        }
        if (spec.startsWith("/")) {
            return UnixDomainSocketAddress.of(Path.of(spec));
        }
        throw new IllegalArgumentException("not a milter socket (inet:port@host or unix:/path): " + socket);
    }

    /** Where the milter is, for log lines. */
    String where() {
        return address instanceof InetSocketAddress inet ? inet.getHostString() + ":" + inet.getPort() : address.toString();
    }

    /**
     * Connects and negotiates: completes with the open connection once the milter accepted version 6 with the
     * protocol flags this client offers, or fails (not reachable, no answer in time, a version or flag it cannot take).
     */
    CompletableFuture<Opened> open() {
        MilterConnection connection = new MilterConnection(timeoutMillis);
        ChannelFuture connect = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel channel) {
                channel.pipeline().addLast("packets", new LengthFieldBasedFrameDecoder(MAX_PACKET, 0, 4, 0, 4))
                        .addLast("milter", connection);
            }
        }).connect(address);
        CompletableFuture<Void> connected = new CompletableFuture<>();
        connect.addListener(done -> {
            if (done.isSuccess()) {
                connected.complete(null);
            } else {
                connected.completeExceptionally(done.cause());
            }
        });
        return connected.thenCompose(x -> connection.ask(MilterProtocol.optionNegotiation(MilterProtocol.ALL_ACTIONS, MilterProtocol.OFFERED_PROTOCOL)))
                .thenApply(answer -> {
                    try {
                        return new Opened(connection, accept(answer.reply().negotiation()));
                    } catch (IOException refused) {
                        connection.close();
                        throw new CompletionException(refused);
                    }
                });
    }

    private static MilterReply.Negotiation accept(MilterReply.Negotiation negotiation) throws IOException {
        if (negotiation.version() < 2 || negotiation.version() > MilterProtocol.VERSION) {
            throw new IOException("the milter speaks protocol version " + negotiation.version() + ", not 2 to 6");
        }
        int unoffered = negotiation.protocol() & ~MilterProtocol.OFFERED_PROTOCOL;
        if (unoffered != 0) {
            throw new IOException("the milter asks for protocol flags this client does not offer: 0x" + Integer.toHexString(unoffered));
        }
        return negotiation;
    }

    /** For health checks: negotiates and says QUIT, within {@code timeout}. */
    CompletableFuture<String> probe(Duration timeout) {
        return open().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).thenApply(opened -> {
            opened.connection().quit();
            MilterReply.Negotiation negotiation = opened.negotiation();
            return "milter protocol " + negotiation.version() + ", actions 0x" + Integer.toHexString(negotiation.actions())
                    + ", protocol 0x" + Integer.toHexString(negotiation.protocol());
        });
    }

    /** Stops the event loop; the connections still open close with it. */
    @Override
    public void close() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
