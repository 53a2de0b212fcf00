package org.postern.smtp.plugin.virus.clamdscan.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.DelimiterBasedFrameDecoder;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A client of clamd on Netty: one connection per message, over TCP or a Unix domain socket (Netty 4.2's NIO
 * transport connects Java 16's UnixDomainSocketAddress, so no native transport is needed), the message streamed as
 * an {@link InstreamRequest}, the replies read as they come (NUL-terminated), and no thread waiting for any of it.
 * Everything of a scan runs on the client's one event-loop thread, including reading the message from the spool:
 * disk reads, as the core's own spool writes, are not the blocking this loop must avoid.
 */
final class Clamd implements AutoCloseable {
    private static final int CHUNK_SIZE = 64 * 1024;
    /** Longer than any reply clamd gives (a signature name is at most a few hundred characters). */
    private static final int MAX_REPLY = 4096;

    private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("postern-clamdscan", true),
            NioIoHandler.newFactory());
    private final SocketAddress address;
    private final Bootstrap bootstrap;
    private final long timeoutMillis;

    private Clamd(SocketAddress address, Class<? extends Channel> channelType, int connectTimeoutMillis, long timeoutMillis) {
        this.address = address;
        this.timeoutMillis = timeoutMillis;
        bootstrap = new Bootstrap().group(loop).channel(channelType)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(connectTimeoutMillis, timeoutMillis))
                // at its StreamMaxLength clamd replies and closes with the rest unread, so writing fails with a reset:
                // only the output is shut then, and the reply already received is still read
                .option(ChannelOption.AUTO_CLOSE, false);
    }

    /** clamd's TCPSocket; the host name is looked up at each connection. */
    static Clamd tcp(String host, int port, int connectTimeoutMillis, long timeoutMillis) {
        return new Clamd(InetSocketAddress.createUnresolved(host, port), NioSocketChannel.class, connectTimeoutMillis, timeoutMillis);
    }

    /** clamd's LocalSocket. */
    static Clamd unix(Path socket, int connectTimeoutMillis, long timeoutMillis) {
        return new Clamd(UnixDomainSocketAddress.of(socket), NioDomainSocketChannel.class, connectTimeoutMillis, timeoutMillis);
    }

    /** Where clamd is, for log lines. */
    String where() {
        return address instanceof InetSocketAddress inet ? inet.getHostString() + ":" + inet.getPort() : address.toString();
    }

    /**
     * Scans the message, and closes it when the scan ends, however it ends. The stage fails when clamd cannot be reached,
     * closes the connection without a verdict, answers with an error, or has not answered everything within the
     * timeout, counted from this call.
     */
    CompletableFuture<ClamdAnswer> scan(InputStream message) {
        InstreamRequest request = new InstreamRequest(message, CHUNK_SIZE);
        Exchange exchange = new Exchange();
        ChannelFuture connect = connect(exchange);
        Channel channel = connect.channel();
        ScheduledFuture<?> deadline = channel.eventLoop().schedule(() -> exchange.fail(
                new TimeoutException("clamd did not answer within " + timeoutMillis + " ms")), timeoutMillis, TimeUnit.MILLISECONDS);
        // the stage returned completes once the connection is closing and the message closed; registered before the
        // request is written, so that the message is closed on the event loop that reads it
        CompletableFuture<ClamdAnswer> scanned = exchange.answer.whenComplete((answer, error) -> {
            deadline.cancel(false);
            channel.close();
            try {
                request.close();
            } catch (IOException ignored) {
                // the spool file is only read; nothing was lost by failing to close it
            }
        });
        connect.addListener(done -> {
            if (!done.isSuccess()) {
                exchange.fail(done.cause());
                return;
            }
            channel.writeAndFlush(request).addListener(written -> {
                if (!written.isSuccess()) {
                    exchange.keep(written.cause());
                }
            });
        });
        return scanned;
    }

    /**
     * Asks clamd {@code zPING} within {@code timeout} from this call: completes with its {@code PONG}, or fails when
     * clamd cannot be reached, answers anything else, or is silent.
     */
    CompletableFuture<String> ping(Duration timeout) {
        CompletableFuture<String> pong = new CompletableFuture<>();
        ChannelFuture connect = connect(new Pong(pong));
        Channel channel = connect.channel();
        ScheduledFuture<?> deadline = channel.eventLoop().schedule(() -> pong.completeExceptionally(
                new TimeoutException("clamd did not answer PING within " + timeout.toMillis() + " ms")), timeout.toMillis(), TimeUnit.MILLISECONDS);
        connect.addListener(done -> {
            if (done.isSuccess()) {
                channel.writeAndFlush(Unpooled.copiedBuffer("zPING\0", StandardCharsets.US_ASCII));
            } else {
                pong.completeExceptionally(done.cause());
            }
        });
        return pong.whenComplete((reply, error) -> {
            deadline.cancel(false);
            channel.close();
        });
    }

    /** A connection to clamd whose replies, NUL-terminated, go to {@code exchange}. */
    private ChannelFuture connect(ChannelHandler exchange) {
        return bootstrap.clone().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel channel) {
                channel.pipeline().addLast("replies", new DelimiterBasedFrameDecoder(MAX_REPLY, Unpooled.wrappedBuffer(new byte[] {0})))
                        .addLast("request", new ChunkedWriteHandler())
                        .addLast("exchange", exchange);
            }
        }).connect(address);
    }

    /** Stops the event loop; the scans under way fail as their connections close. */
    @Override
    public void close() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** Takes clamd's one reply to PING. */
    private static final class Pong extends SimpleChannelInboundHandler<ByteBuf> {
        private final CompletableFuture<String> pong;

        Pong(CompletableFuture<String> pong) {
            this.pong = pong;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            String reply = frame.toString(StandardCharsets.ISO_8859_1);
            if (reply.equals("PONG")) {
                pong.complete(reply);
            } else {
                pong.completeExceptionally(new IOException("clamd answered PING with: " + reply));
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            pong.completeExceptionally(new IOException("clamd closed the connection without answering PING"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            pong.completeExceptionally(cause);
            ctx.close();
        }
    }

    /** Collects the two replies of a scan; answers once both are in, or when clamd closes the connection. */
    private static final class Exchange extends SimpleChannelInboundHandler<ByteBuf> {
        final CompletableFuture<ClamdAnswer> answer = new CompletableFuture<>();
        private String version;
        private String verdict;
        private Throwable failure;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            String reply = frame.toString(StandardCharsets.ISO_8859_1);
            if (reply.startsWith(InstreamRequest.VERSION_REPLY)) {
                version = reply.substring(InstreamRequest.VERSION_REPLY.length());
            } else if (reply.startsWith(InstreamRequest.SCAN_REPLY)) {
                verdict = reply.substring(InstreamRequest.SCAN_REPLY.length());
            } else {
                fail(new IOException("clamd answered: " + reply));
                return;
            }
            if (version != null && verdict != null) {
                settle();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            settle();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            keep(cause);
            ctx.close();
        }

        /**
         * Remembers the first error, for when the connection closes without a verdict: a reset that follows clamd's
         * reply (it closes without reading the rest at its StreamMaxLength) does not undo the reply.
         */
        void keep(Throwable cause) {
            if (failure == null) {
                failure = cause;
            }
        }

        void fail(Throwable cause) {
            answer.completeExceptionally(cause);
        }

        private void settle() {
            if (verdict == null) {
                fail(failure != null ? failure : new IOException("clamd closed the connection without a verdict"));
                return;
            }
            try {
                answer.complete(ClamdAnswer.of(version, verdict));
            } catch (IOException error) {
                fail(error);
            }
        }
    }
}
