package org.postern.smtp.plugin.milter.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One connection to a milter, for one SMTP session. At most one exchange is under way at a time (SMTP commands of
 * a session come one after another): {@link #ask} writes packets and completes with the milter's final reply and
 * the modifications it sent before it. A PROGRESS reply restarts the timeout. Everything runs on the channel's event loop.
 */
final class MilterConnection extends SimpleChannelInboundHandler<ByteBuf> {
    /** A final reply and the modification packets (end of body only) that came before it. */
    record Answer(MilterReply reply, List<MilterReply> modifications) {
        static final Answer CONTINUED = new Answer(MilterReply.CONTINUED, List.of());
    }

    private final long timeoutMillis;
    private Channel channel;
    private CompletableFuture<Answer> pending;
    private List<MilterReply> modifications = new ArrayList<>();
    private ScheduledFuture<?> deadline;

    MilterConnection(long timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    /** The event loop this connection's work runs on. */
    Executor executor() {
        return channel.eventLoop();
    }

    boolean open() {
        return channel != null && channel.isActive();
    }

    /** Writes the packets and completes with the milter's final reply to the last, or fails (closed, timeout, I/O error). */
    CompletableFuture<Answer> ask(ByteBuf... packets) {
        CompletableFuture<Answer> answer = new CompletableFuture<>();
        channel.eventLoop().execute(() -> {
            if (pending != null) {
                release(packets);
                answer.completeExceptionally(new IllegalStateException("a milter exchange is already under way"));
                return;
            }
            if (!channel.isActive()) {
                release(packets);
                answer.completeExceptionally(new IOException("the milter connection is closed"));
                return;
            }
            pending = answer;
            modifications = new ArrayList<>();
            restartTimeout();
            write(packets).addListener(written -> {
                if (!written.isSuccess()) {
                    fail(written.cause());
                }
            });
        });
        return answer;
    }

    /** Writes packets that get no reply (macros, ABORT, QUIT, a step the milter asked not to answer); completes once written. */
    CompletableFuture<Void> tell(ByteBuf... packets) {
        CompletableFuture<Void> sent = new CompletableFuture<>();
        write(packets).addListener(written -> {
            if (written.isSuccess()) {
                sent.complete(null);
            } else {
                sent.completeExceptionally(written.cause());
            }
        });
        return sent;
    }

    /** Says QUIT and closes the connection once it is written. */
    void quit() {
        if (open()) {
            write(MilterProtocol.command(MilterProtocol.QUIT)).addListener(ChannelFutureListener.CLOSE);
        }
    }

    void close() {
        if (channel != null) {
            channel.close();
        }
    }

    private ChannelFuture write(ByteBuf... packets) {
        for (int i = 0; i < packets.length - 1; i++) {
            channel.write(packets[i], channel.voidPromise());
        }
        return channel.writeAndFlush(packets[packets.length - 1]);
    }

    private static void release(ByteBuf... packets) {
        for (ByteBuf packet : packets) {
            packet.release();
        }
    }

    private void restartTimeout() {
        if (deadline != null) {
            deadline.cancel(false);
        }
        deadline = channel.eventLoop().schedule(() -> fail(new TimeoutException("the milter did not answer within " + timeoutMillis + " ms")),
                timeoutMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) throws IOException {
        MilterReply reply = MilterReply.decode(frame);
        if (pending == null) {
            fail(new IOException("the milter sent " + reply + " unasked"));
            return;
        }
        if (reply.code() == MilterReply.PROGRESS) {
            restartTimeout();
        } else if (reply.modification()) {
            modifications.add(reply);
        } else {
            CompletableFuture<Answer> answered = pending;
            pending = null;
            deadline.cancel(false);
            answered.complete(new Answer(reply, List.copyOf(modifications)));
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(new IOException("the milter closed the connection"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(cause);
    }

    /** Fails the exchange under way and closes the connection: after an error the milter's state is unknown. */
    private void fail(Throwable cause) {
        if (deadline != null) {
            deadline.cancel(false);
        }
        CompletableFuture<Answer> failed = pending;
        pending = null;
        channel.close();
        if (failed != null) {
            failed.completeExceptionally(cause);
        }
    }
}
