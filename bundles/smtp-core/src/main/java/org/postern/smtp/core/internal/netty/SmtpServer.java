package org.postern.smtp.core.internal.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.postern.smtp.core.internal.dispatch.HookChains;
import org.postern.smtp.core.internal.dispatch.HookRunner;
import org.postern.smtp.core.internal.dispatch.PluginSupport;
import org.postern.smtp.core.internal.protocol.SessionSettings;
import org.postern.smtp.core.internal.protocol.SmtpSession;
import org.postern.smtp.core.internal.protocol.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The Netty side of the server: listeners, event loops, and one session per accepted connection. */
public final class SmtpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SmtpServer.class);

    /** Settings of the connection layer. */
    public record Limits(int maxLineLength, int commandTimeoutSeconds, int dataTimeoutSeconds, int maxConnections,
            int maxConnectionsPerIp, int ioThreads) {
    }

    private final SessionSettings settings;
    private final Limits limits;
    private final HookRunner runner;
    private final Supplier<HookChains> chains;
    private final PluginSupport support;
    private final ConnectionLimiter limiter;
    private final EventLoopGroup acceptors = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoopGroup workers;
    private final List<Channel> listeners = new ArrayList<>();
    private final AtomicLong sessionCounter = new AtomicLong();
    private final String idPrefix = Long.toString(System.currentTimeMillis() / 1000 % 1_000_000, 36);

    public SmtpServer(SessionSettings settings, Limits limits, HookRunner runner, Supplier<HookChains> chains,
            PluginSupport support) {
        this.settings = settings;
        this.limits = limits;
        this.runner = runner;
        this.chains = chains;
        this.support = support;
        this.limiter = new ConnectionLimiter(limits.maxConnections(), limits.maxConnectionsPerIp());
        this.workers = new MultiThreadIoEventLoopGroup(limits.ioThreads(), NioIoHandler.newFactory());
    }

    /** Binds a listener; throws if the address cannot be bound. */
    public InetSocketAddress listen(InetSocketAddress address) throws InterruptedException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptors, workers)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.pipeline()
                                .addLast("framer", new SmtpFrameDecoder(limits.maxLineLength()))
                                .addLast("session", new SmtpConnectionHandler(SmtpServer.this));
                    }
                });
        Channel channel = bootstrap.bind(address).sync().channel();
        synchronized (listeners) {
            listeners.add(channel);
        }
        InetSocketAddress bound = (InetSocketAddress) channel.localAddress();
        LOG.info("listening on {}", bound);
        return bound;
    }

    SmtpSession newSession(InetSocketAddress remote, InetSocketAddress local, Transport transport) {
        String id = idPrefix + "." + Long.toString(sessionCounter.incrementAndGet(), 36);
        return new SmtpSession(id, remote, local, settings, runner, chains, support, transport);
    }

    SessionSettings settings() {
        return settings;
    }

    ConnectionLimiter limiter() {
        return limiter;
    }

    int commandTimeoutSeconds() {
        return limits.commandTimeoutSeconds();
    }

    int dataTimeoutSeconds() {
        return limits.dataTimeoutSeconds();
    }

    /** Stops listening and closes every connection. */
    @Override
    public void close() {
        synchronized (listeners) {
            listeners.forEach(Channel::close);
            listeners.clear();
        }
        acceptors.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
