package org.postern.smtp.core.internal.netty;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProtocolException;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import org.postern.smtp.core.internal.protocol.Reply;
import org.postern.smtp.core.internal.protocol.SmtpLine;
import org.postern.smtp.core.internal.protocol.SmtpSession;
import org.postern.smtp.core.internal.protocol.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds one connection's lines to its {@link SmtpSession}, one command at a time. While the session waits
 * for hooks, or while the client does not read its replies (the channel is not writable), reading stops
 * (autoRead off) and lines already read wait in a small queue; replies are flushed once per batch of
 * pipelined commands. Never blocks, and a client cannot make replies pile up in memory.
 */
final class SmtpConnectionHandler extends ChannelInboundHandlerAdapter implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(SmtpConnectionHandler.class);
    /** Lines read but not yet handed to the session; past this, the framer stops splitting until they are. */
    static final int MAX_PENDING_LINES = 256;

    private final SmtpServer server;
    private final SmtpServer.Setup setup;
    private final String listener;
    private final ArrayDeque<SmtpLine> pending = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private SmtpFrameDecoder framer;
    private SmtpSession session;
    private ScheduledFuture<?> idleTimer;
    private long lastActivityNanos = System.nanoTime();
    private boolean draining;
    private boolean unflushed;
    /** The client network this connection is counted under in the limits; null once its place is freed. */
    private String countedAs;
    private boolean discardUntilTls;
    private boolean watchingForClose;
    private boolean encrypted;
    /** A plugin waits for the client's next line; reading goes on while the session is busy until it comes. */
    private CompletableFuture<SmtpLine> lineForPlugin;
    /** Whether the client has sent input not yet taken by the session; read by plugins on other threads. */
    private volatile boolean inputWaiting;

    /** The client and the address it connected to: the TCP peer's, or those a PROXY header named; null until known. */
    private InetSocketAddress remote;
    private InetSocketAddress local;
    /** Closes a connection to a PROXY protocol listener whose header does not come in time. */
    private ScheduledFuture<?> proxyTimer;

    /** STARTTLS was answered; completes when the handshake does. */
    private CompletableFuture<String> handshake;

    SmtpConnectionHandler(SmtpServer server, SmtpServer.Setup setup, String listener) {
        this.server = server;
        this.setup = setup;
        this.listener = listener;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (setup.proxyProtocol()) {
            proxyTimer = ctx.executor().schedule(this::closeWithoutProxyHeader, setup.limits().proxyTimeoutSeconds(), TimeUnit.SECONDS);
        } else {
            admit((InetSocketAddress) ctx.channel().remoteAddress(), (InetSocketAddress) ctx.channel().localAddress());
        }
        ctx.fireChannelActive();
    }

    /**
     * The client and the address it reached, as the proxy's header names them; the proxy's own connection for a
     * LOCAL header (the proxy's health check), or one whose protocol is UNKNOWN or not TCP.
     */
    private void admitThroughProxy(HAProxyMessage header) {
        proxyTimer.cancel(false);
        InetSocketAddress proxy = (InetSocketAddress) ctx.channel().remoteAddress();
        InetSocketAddress local = (InetSocketAddress) ctx.channel().localAddress();
        HAProxyProxiedProtocol protocol = header.proxiedProtocol();
        if (header.command() == HAProxyCommand.PROXY
                && (protocol == HAProxyProxiedProtocol.TCP4 || protocol == HAProxyProxiedProtocol.TCP6)) {
            InetSocketAddress client = endpoint(header.sourceAddress(), header.sourcePort());
            LOG.debug("connection from {} through the proxy at {}", client, proxy);
            admit(client, endpoint(header.destinationAddress(), header.destinationPort()));
        } else {
            LOG.debug("connection from the proxy at {} itself ({} {})", proxy, header.command(), protocol);
            admit(proxy, local);
        }
    }

    /** An address the decoder has checked is a literal: no name lookup. */
    private static InetSocketAddress endpoint(String address, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByAddress(NetUtil.createByteArrayFromIpAddressString(address)), port);
        } catch (UnknownHostException notLiteral) {
            throw new IllegalStateException("the PROXY header's address " + address + " is not an IP address", notLiteral);
        }
    }

    private void closeWithoutProxyHeader() {
        if (remote == null) {
            LOG.info("closed the connection from {}: no PROXY protocol header within {} s", ctx.channel().remoteAddress(),
                    setup.limits().proxyTimeoutSeconds());
            ctx.close();
        }
    }

    /** Lets the client in, counted under its own address, or refuses it at the connection limits. */
    private void admit(InetSocketAddress client, InetSocketAddress local) {
        this.remote = client;
        this.local = local;
        countedAs = server.limiter().acquire(remote.getAddress());
        if (countedAs == null) {
            LOG.warn("refused connection from {}: connection limit reached", remote);
            server.connectionRefused(listener);
            if (setup.implicitTls()) {
                // the client expects a TLS handshake, which would cost the server more than the refusal is worth
                ctx.close();
                return;
            }
            ctx.writeAndFlush(Unpooled.wrappedBuffer(Reply.of(421, "4.7.0",
                    setup.settings().me() + " Too many connections, try again later").encode()))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        if (setup.implicitTls()) {
            // RFC 8314: TLS first; the session, and its greeting, start once the handshake succeeded. Behind the PROXY
            // header's decoder, which hands on what followed the header as it leaves
            if (ctx.pipeline().get(SmtpServer.PROXY_DECODER) != null) {
                ctx.pipeline().addAfter(SmtpServer.PROXY_DECODER, "tls", setup.tls().newHandler());
            } else {
                ctx.pipeline().addFirst("tls", setup.tls().newHandler());
            }
        } else {
            startSession(null);
        }
    }

    private void startSession(String tlsDescription) {
        ctx.channel().config().setAutoRead(false);
        session = server.newSession(setup, listener, remote, local, this);
        LOG.debug("session {}: connection from {} on listener {}", session.id(), remote, listener);
        if (tlsDescription != null) {
            session.encryptedFromTheStart(tlsDescription);
        }
        session.start(server.limiter().fromIp(remote.getAddress()), server.limiter().total());
        // while connect plugins delay the greeting, one read notices a client that talks first, or hangs up
        drain();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof SslHandshakeCompletionEvent completion) {
            String description = null;
            if (completion.isSuccess()) {
                encrypted = true;
                SSLSession tls = ctx.pipeline().get(SslHandler.class).engine().getSession();
                description = tls.getProtocol() + ":" + tls.getCipherSuite();
            }
            if (handshake != null) {
                discardUntilTls = false;
                if (completion.isSuccess()) {
                    handshake.complete(description);
                } else {
                    handshake.completeExceptionally(completion.cause());
                }
            } else if (completion.isSuccess()) {
                startSession(description);
            } else {
                LOG.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), completion.cause().toString());
                ctx.close();
            }
        } else if (event instanceof SniCompletionEvent sni && !sni.isSuccess() && handshake == null && session == null) {
            LOG.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), sni.cause().toString());
            ctx.close();
        }
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HAProxyMessage header) {
            try {
                admitThroughProxy(header);
            } finally {
                header.release();
            }
            return;
        }
        if (session == null || discardUntilTls) {
            return;
        }
        if (lineForPlugin != null) {
            CompletableFuture<SmtpLine> taker = lineForPlugin;
            lineForPlugin = null;
            taker.complete((SmtpLine) msg);
            drain();
            return;
        }
        pending.add((SmtpLine) msg);
        if (pending.size() >= MAX_PENDING_LINES) {
            framer().pause();
        }
        drain();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        noteInputWaiting();
        ctx.fireChannelReadComplete();
    }

    private void noteInputWaiting() {
        SmtpFrameDecoder decoder = framer();
        inputWaiting = !pending.isEmpty() || (decoder != null && decoder.holdsPartialLine());
    }

    @Override
    public boolean inputWaiting() {
        return inputWaiting;
    }

    /** Lines read but not yet answered; for tests. */
    int pendingLines() {
        return pending.size();
    }

    private SmtpFrameDecoder framer() {
        if (framer == null) {
            framer = ctx.pipeline().get(SmtpFrameDecoder.class);
        }
        return framer;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelIdleTimer();
        if (proxyTimer != null) {
            proxyTimer.cancel(false);
        }
        releaseConnectionSlot();
        if (lineForPlugin != null) {
            lineForPlugin.completeExceptionally(new ClosedChannelException());
            lineForPlugin = null;
        }
        if (session != null) {
            LOG.debug("session {}: connection closed", session.id());
            session.onClosed();
            server.sessionEnded(session);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (session != null && ctx.channel().isWritable()) {
            drain();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof HAProxyProtocolException) {
            Throwable detail = cause.getCause() != null ? cause.getCause() : cause;
            LOG.info("closed the connection from {}: not a PROXY protocol header ({})", ctx.channel().remoteAddress(), detail.getMessage());
        } else {
            LOG.debug("connection error on {}: {}", ctx.channel().remoteAddress(), cause.toString());
        }
        ctx.close();
    }

    private void drain() {
        if (draining) {
            return;
        }
        draining = true;
        try {
            while (!session.busy() && !session.closed() && !pending.isEmpty() && ctx.channel().isWritable()) {
                session.onLine(pending.poll());
            }
        } finally {
            draining = false;
        }
        flush();
        noteInputWaiting();
        if (session.closed()) {
            pending.clear();
            return;
        }
        if (pending.isEmpty() && !session.busy()) {
            framer().resume();
        }
        boolean reading = (!session.busy() || lineForPlugin != null) && ctx.channel().isWritable();
        ctx.channel().config().setAutoRead(reading);
        if (reading) {
            watchingForClose = false;
        } else if (!watchingForClose) {
            // One read while reading is off: a client that hangs up while plugins work is noticed (its message
            // must not be queued, it got no 250), and what else it sends is one bounded batch.
            watchingForClose = true;
            ctx.read();
        }
        lastActivityNanos = System.nanoTime();
        if (idleTimer == null) {
            scheduleIdleCheck(idleTimeoutNanos());
        }
    }

    /**
     * One timer per connection, moved only when it fires: reads just record the time, so a busy connection
     * does not schedule and cancel a task per read. Time spent waiting for plugins does not count as idle.
     */
    private void scheduleIdleCheck(long delayNanos) {
        idleTimer = ctx.executor().schedule(this::checkIdle, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void checkIdle() {
        idleTimer = null;
        if (session.closed()) {
            return;
        }
        if (session.busy()) {
            // Plugins, not the client, are slow: the session gets as long as a client may stay silent.
            long deadline = TimeUnit.SECONDS.toNanos(setup.limits().commandTimeoutSeconds());
            long busy = System.nanoTime() - session.busySinceNanos();
            if (busy < deadline) {
                scheduleIdleCheck(deadline - busy);
                return;
            }
            session.onBusyTooLong();
            return;
        }
        long timeout = idleTimeoutNanos();
        long idle = System.nanoTime() - lastActivityNanos;
        if (idle < timeout) {
            scheduleIdleCheck(timeout - idle);
            return;
        }
        session.onTimeout();
        drain();
    }

    private long idleTimeoutNanos() {
        long seconds = session.inData() ? setup.limits().dataTimeoutSeconds() : setup.limits().commandTimeoutSeconds();
        return TimeUnit.SECONDS.toNanos(seconds);
    }

    private void cancelIdleTimer() {
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
    }

    @Override
    public void send(Reply reply) {
        ctx.write(Unpooled.wrappedBuffer(reply.encode()));
        unflushed = true;
    }

    @Override
    public void flush() {
        if (unflushed) {
            unflushed = false;
            ctx.flush();
        }
    }

    @Override
    public CompletableFuture<SmtpLine> nextLine() {
        if (lineForPlugin != null) {
            return CompletableFuture.failedFuture(new IllegalStateException("a plugin already waits for the client's next line"));
        }
        SmtpLine held = pending.poll();
        if (held != null) {
            return CompletableFuture.completedFuture(held);
        }
        lineForPlugin = new CompletableFuture<>();
        CompletableFuture<SmtpLine> line = lineForPlugin;
        framer().resume();
        drain();
        return line;
    }

    /** Frees this connection's place in the limits, once: when the server closes it, or when it is gone. */
    private void releaseConnectionSlot() {
        if (countedAs != null) {
            server.limiter().release(countedAs);
            countedAs = null;
        }
    }

    @Override
    public void close() {
        // A client that got 221 may reconnect before the close completes; its place is free already.
        releaseConnectionSlot();
        unflushed = false;
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public boolean tlsAvailable() {
        return setup.tls() != null && !encrypted;
    }

    @Override
    public CompletableFuture<String> startTls(Reply ready) {
        // Lines the client pipelined after STARTTLS were sent in the clear: never execute them.
        pending.clear();
        discardUntilTls = true;
        framer().discardBuffered();
        // the 220 goes out in the clear before the TLS handler is in place, then the client's hello is TLS's
        send(ready);
        unflushed = false;
        ctx.flush();
        ctx.pipeline().addFirst("tls", setup.tls().newHandler());
        handshake = new CompletableFuture<>();
        return handshake;
    }

    @Override
    public Executor executor() {
        return ctx.executor();
    }

    @Override
    public void ready() {
        drain();
    }
}
