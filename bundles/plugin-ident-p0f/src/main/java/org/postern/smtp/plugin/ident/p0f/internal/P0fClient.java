package org.postern.smtp.plugin.ident.p0f.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.handler.codec.FixedLengthFrameDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A client of p0f's API on Netty, as the clamd and spamd clients are: Netty 4.2's NIO transport connects Java 16's
 * UnixDomainSocketAddress, so no native transport is needed. One connection per query, closed once it is answered:
 * p0f serves at most 20 API connections at once (its {@code -S}), so none is held longer than a query takes.
 */
final class P0fClient implements AutoCloseable {
    private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("postern-p0f", true),
            NioIoHandler.newFactory());
    private final UnixDomainSocketAddress socket;
    private final Bootstrap bootstrap;

    P0fClient(Path socket) {
        this.socket = UnixDomainSocketAddress.of(socket);
        bootstrap = new Bootstrap().group(loop).channel(NioDomainSocketChannel.class);
    }

    /** p0f's socket, for log lines. */
    String where() {
        return socket.getPath().toString();
    }

    /**
     * Asks p0f about {@code host}: completes with its answer of {@value P0fApi#ANSWER_LENGTH} octets, or fails when p0f
     * cannot be reached, closes the connection before answering, or has not answered within {@code timeout} of this call.
     */
    CompletableFuture<byte[]> ask(InetAddress host, Duration timeout) {
        CompletableFuture<byte[]> answer = new CompletableFuture<>();
        ChannelFuture connect = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel channel) {
                channel.pipeline().addLast(new FixedLengthFrameDecoder(P0fApi.ANSWER_LENGTH), new Answer(answer, where()));
            }
        }).connect(socket);
        ScheduledFuture<?> deadline = loop.schedule(() -> answer.completeExceptionally(
                new TimeoutException("p0f at " + where() + " did not answer within " + timeout.toMillis() + " ms")), timeout.toMillis(), TimeUnit.MILLISECONDS);
        connect.addListener(done -> {
            if (!done.isSuccess()) {
                answer.completeExceptionally(new IOException("could not open socket: " + done.cause().getMessage(), done.cause()));
                return;
            }
            connect.channel().writeAndFlush(Unpooled.wrappedBuffer(P0fApi.query(host))).addListener(written -> {
                if (!written.isSuccess()) {
                    answer.completeExceptionally(new IOException("send to p0f at " + where() + " failed: " + written.cause().getMessage(), written.cause()));
                }
            });
        });
        return answer.whenComplete((octets, error) -> {
            deadline.cancel(false);
            connect.channel().close();
        });
    }

    /** Stops the event loop; the queries under way fail as their connections close. */
    @Override
    public void close() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** Takes p0f's one answer to the query. */
    private static final class Answer extends SimpleChannelInboundHandler<ByteBuf> {
        private final CompletableFuture<byte[]> answer;
        private final String where;

        Answer(CompletableFuture<byte[]> answer, String where) {
            this.answer = answer;
            this.where = where;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            answer.complete(ByteBufUtil.getBytes(frame));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            answer.completeExceptionally(new IOException("p0f at " + where + " closed the connection without answering"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            answer.completeExceptionally(cause);
            ctx.close();
        }
    }
}
