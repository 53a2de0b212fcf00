package org.postern.smtp.client.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.postern.smtp.client.Destination;
import org.postern.smtp.client.Reply;
import org.postern.smtp.client.TlsPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection to a server: sends command lines and message data, and hands each reply to the command that
 * waits for it, in order (so pipelined commands need nothing more). Every wait is bounded: the oldest command
 * without its reply has a timer, and so has a message transfer the server does not read. Any failure (a timeout, a
 * protocol error, the connection lost) fails everything waiting and closes the connection.
 *
 * <p>Its state is touched on its event loop only; the methods may be called from any thread.
 */
final class Connection {
    private static final Logger LOG = LoggerFactory.getLogger(Connection.class);
    /** Longest reply line taken (RFC 5321 allows 512 octets; servers exceed it with long texts). */
    static final int MAX_LINE = 4096;

    /** The server closed the connection, or it broke. */
    static final class Closed extends IOException {
        private static final long serialVersionUID = 1L;

        Closed(String message) {
            super(message);
        }
    }

    private record Expected(String what, Duration timeout, CompletableFuture<Reply> reply, SslContext tls) {
    }

    final Destination destination;
    final Channel channel;
    private final ReplyLineDecoder decoder = new ReplyLineDecoder();
    private final ArrayDeque<Expected> expected = new ArrayDeque<>();
    private final ReplyParser parser = new ReplyParser();
    private final CompletableFuture<Reply> greeting = new CompletableFuture<>();
    private ScheduledFuture<?> replyTimer;
    private CompletableFuture<Void> writable;
    private ScheduledFuture<?> writeTimer;
    private Throwable failure;
    /** The STARTTLS command from its 220 to the end of the handshake, when the server must send nothing. */
    private Expected switchingToTls;
    volatile Extensions extensions = Extensions.NONE;
    volatile boolean tls;
    /** False once it must not carry another message: broken, closed, or left mid-transaction. */
    volatile boolean reusable = true;
    /** Whether it has carried a message before the current one. */
    volatile boolean reused;

    /** Installs itself in the channel's pipeline; call from the channel initializer. */
    Connection(Destination destination, Channel channel, Duration greetingTimeout) {
        this.destination = destination;
        this.channel = channel;
        channel.pipeline().addLast("lines", decoder).addLast("replies", new Handler());
        expected.add(new Expected("the greeting", greetingTimeout, greeting, null));
    }

    CompletableFuture<Reply> greeting() {
        return greeting;
    }

    boolean isOpen() {
        return channel.isOpen();
    }

    /** Sends one command line and completes with its reply. */
    CompletableFuture<Reply> command(String line, Duration timeout) {
        return command(line, line, timeout);
    }

    /** {@link #command(String, Duration)} for a line with secrets in it, logged as {@code logged}. */
    CompletableFuture<Reply> command(String line, String logged, Duration timeout) {
        return send(List.of(line), List.of(logged), timeout, null).get(0);
    }

    /** Sends the lines at once (RFC 2920 pipelining); one reply each, in order. */
    List<CompletableFuture<Reply>> pipeline(List<String> lines, Duration timeout) {
        return send(lines, lines, timeout, null);
    }

    /**
     * Sends STARTTLS; on a 220, starts the TLS handshake at once (anything the server sent after its 220 fails
     * the connection, as it would otherwise be read as if it had come encrypted) and completes with the 220 once
     * the handshake is done. Any other reply completes it as it is.
     */
    CompletableFuture<Reply> startTls(SslContext context, Duration timeout) {
        return send(List.of("STARTTLS"), List.of("STARTTLS"), timeout, context).get(0);
    }

    /**
     * Writes part of the message; completes once the connection takes more, and fails the connection when the
     * server reads none of it within {@code timeout}.
     */
    CompletableFuture<Void> write(ByteBuf data, Duration timeout) {
        CompletableFuture<Void> more = new CompletableFuture<>();
        if (!onLoop(() -> {
            if (failure != null) {
                data.release();
                more.completeExceptionally(failure);
                return;
            }
            channel.writeAndFlush(data).addListener(written -> {
                if (!written.isSuccess()) {
                    fail(written.cause());
                }
            });
            if (channel.isWritable()) {
                more.complete(null);
            } else {
                writable = more;
                writeTimer = channel.eventLoop().schedule(
                        () -> fail(new TimeoutException("the server took none of the message for " + timeout.toSeconds() + " s")),
                        timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        })) {
            data.release();
            more.completeExceptionally(new Closed("the client is closed"));
        }
        return more;
    }

    /** Writes the end of the message (its last octets and the final dot); completes with {@code replies} replies. */
    List<CompletableFuture<Reply>> endData(ByteBuf end, int replies, Duration timeout) {
        List<Expected> waits = new ArrayList<>();
        for (int i = 0; i < replies; i++) {
            waits.add(new Expected("the final dot", timeout, new CompletableFuture<>(), null));
        }
        send(end, waits, ".");
        return waits.stream().map(Expected::reply).toList();
    }

    /** Ends the connection politely: QUIT, then close whatever the answer. */
    void quit(Duration timeout) {
        reusable = false;
        command("QUIT", timeout).whenComplete((reply, error) -> channel.close());
    }

    /** Ends the connection at once, failing whatever waits with {@code cause}. */
    void abort(Throwable cause) {
        onLoop(() -> fail(cause));
    }

    private List<CompletableFuture<Reply>> send(List<String> lines, List<String> logged, Duration timeout, SslContext tls) {
        StringBuilder text = new StringBuilder();
        List<Expected> waits = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            text.append(lines.get(i)).append("\r\n");
            String verb = logged.get(i).split(" ", 2)[0];
            waits.add(new Expected(verb, timeout, new CompletableFuture<>(), tls));
        }
        send(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8), waits, String.join(" | ", logged));
        return waits.stream().map(Expected::reply).toList();
    }

    private void send(ByteBuf data, List<Expected> waits, String logged) {
        if (!onLoop(() -> {
            if (failure != null) {
                data.release();
                waits.forEach(wait -> wait.reply.completeExceptionally(failure));
                return;
            }
            LOG.debug("{} C: {}", destination.address(), logged);
            expected.addAll(waits);
            armReplyTimer();
            channel.writeAndFlush(data).addListener(written -> {
                if (!written.isSuccess()) {
                    fail(written.cause());
                }
            });
        })) {
            data.release();
            waits.forEach(wait -> wait.reply.completeExceptionally(new Closed("the client is closed")));
        }
    }

    /** Runs the task on the event loop; false when the loop no longer runs tasks. */
    private boolean onLoop(Runnable task) {
        if (channel.eventLoop().inEventLoop()) {
            task.run();
            return true;
        }
        try {
            channel.eventLoop().execute(task);
            return true;
        } catch (RejectedExecutionException stopped) {
            return false;
        }
    }

    private void armReplyTimer() {
        Expected head = expected.peek();
        if (head != null && replyTimer == null && channel.isActive()) {
            replyTimer = channel.eventLoop().schedule(() -> {
                replyTimer = null;
                fail(new TimeoutException("no reply to " + head.what + " within " + head.timeout.toSeconds() + " s"));
            }, head.timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void cancelReplyTimer() {
        if (replyTimer != null) {
            replyTimer.cancel(false);
            replyTimer = null;
        }
    }

    private void fail(Throwable cause) {
        if (failure != null) {
            return;
        }
        failure = cause;
        reusable = false;
        LOG.debug("{}: {}", destination.address(), cause.toString());
        cancelReplyTimer();
        if (writeTimer != null) {
            writeTimer.cancel(false);
        }
        List<Expected> waiting = new ArrayList<>(expected);
        expected.clear();
        if (switchingToTls != null) {
            waiting.add(switchingToTls);
            switchingToTls = null;
        }
        waiting.forEach(wait -> wait.reply.completeExceptionally(cause));
        if (writable != null) {
            writable.completeExceptionally(cause);
            writable = null;
        }
        channel.close();
    }

    private void onLine(String line) {
        if (failure != null) {
            return;
        }
        LOG.debug("{} S: {}", destination.address(), line);
        if (switchingToTls != null) {
            fail(new ProtocolException("the server sent more after its 220 to STARTTLS"));
            return;
        }
        Reply reply;
        try {
            reply = parser.accept(line);
        } catch (ProtocolException e) {
            fail(e);
            return;
        }
        if (reply == null) {
            return;
        }
        Expected head = expected.poll();
        if (head == null) {
            // a 421 before the server closes an idle connection ends here too
            fail(new Closed("the server said " + reply + " unasked"));
            return;
        }
        cancelReplyTimer();
        armReplyTimer();
        if (head.tls != null && reply.code() == 220) {
            switchingToTls = head;
            beginTls(head, reply);
        } else {
            head.reply.complete(reply);
        }
    }

    private void beginTls(Expected startTls, Reply reply) {
        if (decoder.hasBufferedOctets() || parser.inReply()) {
            fail(new ProtocolException("the server sent more after its 220 to STARTTLS"));
            return;
        }
        SslHandler ssl = destination.socket() == null ? startTls.tls.newHandler(channel.alloc(), destination.host(), destination.port())
                : startTls.tls.newHandler(channel.alloc());
        ssl.setHandshakeTimeoutMillis(startTls.timeout.toMillis());
        if (destination.tls() == TlsPolicy.VERIFY) {
            SSLEngine engine = ssl.engine();
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(parameters);
        }
        channel.pipeline().addFirst("tls", ssl);
        ssl.handshakeFuture().addListener(handshake -> {
            if (handshake.isSuccess()) {
                switchingToTls = null;
                tls = true;
                startTls.reply.complete(reply);
            } else {
                fail(handshake.cause());
            }
        });
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            armReplyTimer();
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            try {
                onLine(frame.toString(StandardCharsets.UTF_8));
            } finally {
                frame.release();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && writable != null) {
                writeTimer.cancel(false);
                CompletableFuture<Void> more = writable;
                writable = null;
                more.complete(null);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            fail(new Closed("the connection to " + destination.address() + " was closed"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(cause);
        }
    }

    /** Reply lines, CRLF or LF ended; tells whether octets wait undecoded (checked when TLS begins). */
    private static final class ReplyLineDecoder extends LineBasedFrameDecoder {
        ReplyLineDecoder() {
            super(MAX_LINE, true, true);
        }

        boolean hasBufferedOctets() {
            return actualReadableBytes() > 0;
        }
    }
}
