package org.postern.smtp.core.internal.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.postern.smtp.core.internal.dispatch.HookChains;
import org.postern.smtp.core.internal.dispatch.HookRunner;
import org.postern.smtp.core.internal.dispatch.PluginSupport;
import org.postern.smtp.core.internal.dispatch.Statistics;
import org.postern.smtp.core.internal.protocol.AuthFailureBudget;
import org.postern.smtp.core.internal.protocol.ReverseLookup;
import org.postern.smtp.core.internal.protocol.SessionSettings;
import org.postern.smtp.core.internal.protocol.SmtpSession;
import org.postern.smtp.core.internal.protocol.Transport;
import org.postern.smtp.core.internal.tls.ServerTls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Netty side of the server: listeners, event loops, and one session per accepted connection. Its setup
 * and its listeners change while it runs: a new setup applies to connections accepted after the change, a
 * removed listener stops accepting while its open sessions finish.
 */
public final class SmtpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SmtpServer.class);

    /** Settings of the connection layer. */
    public record Limits(int maxLineLength, int commandTimeoutSeconds, int dataTimeoutSeconds, int maxConnections,
            int maxConnectionsPerIp, int authFailuresPerIp, Duration authFailureWindow, int ipv6PrefixLength,
            int proxyTimeoutSeconds) {
    }

    /**
     * Everything a new connection is set up with; replaced whole when the configuration changes.
     *
     * @param tls the server's certificates, or null when it has none (no STARTTLS)
     * @param implicitTls the connection negotiates TLS before anything else (RFC 8314's port 465)
     * @param proxyProtocol the connection starts with a PROXY protocol header (HAProxy's, version 1 or 2) naming the
     *        client a proxy in front of the server accepted it from
     */
    public record Setup(SessionSettings settings, Map<String, ListenerSettings> listenerSettings, Limits limits,
            HookRunner runner, PluginSupport support, ServerTls tls, ReverseLookup reverseLookup, boolean implicitTls,
            boolean proxyProtocol) {
        /** A setup whose listeners all use the same settings, and no reverse DNS. */
        public Setup(SessionSettings settings, Limits limits, HookRunner runner, PluginSupport support, ServerTls tls) {
            this(settings, Map.of(), limits, runner, support, tls, ReverseLookup.NONE, false, false);
        }

        /** This setup as one listener's connections see it: with that listener's own settings, if it has any. */
        Setup forListener(String name) {
            ListenerSettings own = listenerSettings.get(name);
            return own == null ? this : new Setup(own.settings(), Map.of(), limits, runner, support, tls, reverseLookup,
                    own.implicitTls(), own.proxyProtocol());
        }
    }

    /** A named listener's own settings ({@code listener.<name>.*}). */
    public record ListenerSettings(SessionSettings settings, boolean implicitTls, boolean proxyProtocol) {
    }

    /** An address to listen on, and the name that selects its own settings ({@code listener.<name>.*}). */
    public record Listener(String name, InetSocketAddress address) {
    }

    /** A bound listener. Its name can change in place: new connections read it when they are accepted. */
    private static final class Bound {
        volatile String name;
        Channel channel;

        Bound(String name) {
            this.name = name;
        }
    }

    /** The pipeline's name of the PROXY protocol header's decoder, on the listeners that take one. */
    static final String PROXY_DECODER = "proxy";

    /** How long sessions told to end get for the 421 to go out, and a command being answered to finish. */
    private static final Duration LAST_ANSWERS = Duration.ofSeconds(5);

    private final Supplier<HookChains> chains;
    private final Statistics statistics;
    private final Set<SmtpSession> sessions = ConcurrentHashMap.newKeySet();
    private final ConnectionLimiter limiter = new ConnectionLimiter();
    private final AuthFailureBudget authFailures = new AuthFailureBudget(1, Duration.ZERO, 64);
    private final EventLoopGroup acceptors = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoopGroup workers;
    private final Map<InetSocketAddress, Bound> listeners = new LinkedHashMap<>();
    private final AtomicLong sessionCounter = new AtomicLong();
    private final String idPrefix = Long.toString(System.currentTimeMillis() / 1000 % 1_000_000, 36);
    private volatile Setup setup;

    public SmtpServer(int ioThreads, Supplier<HookChains> chains, Setup setup, Statistics statistics) {
        this.chains = chains;
        this.statistics = statistics;
        this.workers = new MultiThreadIoEventLoopGroup(ioThreads, NioIoHandler.newFactory());
        configure(setup);
    }

    /** The setup new connections get. */
    public Setup setup() {
        return setup;
    }

    /** Applies a new setup to connections accepted from now on. */
    public void configure(Setup newSetup) {
        Limits limits = newSetup.limits();
        limiter.limits(limits.maxConnections(), limits.maxConnectionsPerIp(), limits.ipv6PrefixLength());
        authFailures.limits(limits.authFailuresPerIp(), limits.authFailureWindow(), limits.ipv6PrefixLength());
        setup = newSetup;
    }

    /**
     * Listens on exactly these listeners: binds the new ones, closes the ones no longer wanted (their open
     * sessions go on), renames in place the ones whose name changed. Returns the listeners that could not be
     * bound, each with its reason.
     */
    public synchronized List<String> listenOn(Collection<Listener> wanted) {
        List<InetSocketAddress> removed = new ArrayList<>(listeners.keySet());
        removed.removeIf(address -> wanted.stream().anyMatch(listener -> listener.address().equals(address)));
        for (InetSocketAddress address : removed) {
            listeners.remove(address).channel.close().syncUninterruptibly();
            LOG.info("stopped listening on {}; open sessions finish", address);
        }
        List<String> failures = new ArrayList<>();
        for (Listener listener : wanted) {
            InetSocketAddress address = listener.address();
            Bound existing = listeners.get(address);
            if (existing != null) {
                existing.name = listener.name();
                continue;
            }
            try {
                Bound bound = new Bound(listener.name());
                bound.channel = bootstrap(bound).bind(address).sync().channel();
                listeners.put(address, bound);
                LOG.info("listening on {} ({})", bound.channel.localAddress(), listener.name());
            } catch (Exception e) {
                failures.add(address + ": " + e);
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        return failures;
    }

    private ServerBootstrap bootstrap(Bound listener) {
        return new ServerBootstrap()
                .group(acceptors, workers)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        String name = listener.name;
                        Setup current = setup.forListener(name);
                        if (current.proxyProtocol()) {
                            // removes itself once it has read the header
                            channel.pipeline().addLast(PROXY_DECODER, new HAProxyMessageDecoder());
                        }
                        channel.pipeline()
                                .addLast("framer", new SmtpFrameDecoder(current.limits().maxLineLength()))
                                .addLast("session", new SmtpConnectionHandler(SmtpServer.this, current, name));
                    }
                });
    }

    SmtpSession newSession(Setup current, String listener, InetSocketAddress remote, InetSocketAddress local, Transport transport) {
        String id = idPrefix + "." + Long.toString(sessionCounter.incrementAndGet(), 36);
        SmtpSession session = new SmtpSession(id, listener, remote, local, current.settings(), current.runner(),
                () -> chains.get().forListener(listener),
                current.support(), current.reverseLookup(), transport, statistics, authFailures);
        sessions.add(session);
        statistics.connection(listener);
        return session;
    }

    void sessionEnded(SmtpSession session) {
        sessions.remove(session);
        statistics.connectionClosed(session.listener(), session.age());
    }

    void connectionRefused(String listener) {
        statistics.refusedConnection(listener);
    }

    /** How many open sessions are in each of {@link SmtpSession#activity()}'s states, every state named. */
    public Map<String, Integer> sessionsByActivity() {
        Map<String, Integer> counts = new TreeMap<>();
        SmtpSession.ACTIVITIES.forEach(activity -> counts.put(activity, 0));
        sessions.forEach(session -> counts.merge(session.activity(), 1, Integer::sum));
        return counts;
    }

    /** The open sessions, one line each (see {@link SmtpSession#describe()}). */
    public List<String> describeSessions() {
        return sessions.stream().map(SmtpSession::describe).sorted().toList();
    }

    ConnectionLimiter limiter() {
        return limiter;
    }

    /** The listeners with the addresses actually bound (the real port where 0 was asked for). */
    public synchronized List<Listener> boundListeners() {
        return listeners.values().stream()
                .map(bound -> new Listener(bound.name, (InetSocketAddress) bound.channel.localAddress())).toList();
    }

    /**
     * Stops gracefully: stops accepting, lets open sessions go on for {@code grace}, then ends those still open
     * with 421 4.3.2 (a session whose command is being answered right after that answer) and waits a little for
     * them to close. The event loops keep running, for {@link #close()}.
     */
    public void drain(Duration grace) {
        synchronized (this) {
            listeners.values().forEach(bound -> bound.channel.close().syncUninterruptibly());
            listeners.clear();
        }
        if (!sessions.isEmpty() && !grace.isZero()) {
            LOG.info("stopped accepting; {} open session(s) have {} s to finish", sessions.size(), grace.toSeconds());
            awaitSessionsGone(grace);
        }
        if (!sessions.isEmpty()) {
            LOG.info("ending {} open session(s) with 421", sessions.size());
            sessions.forEach(SmtpSession::shutDown);
            awaitSessionsGone(LAST_ANSWERS);
        }
    }

    /** Stops listening and closes every connection at once. */
    @Override
    public void close() {
        drain(Duration.ZERO);
        acceptors.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private void awaitSessionsGone(Duration atMost) {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (!sessions.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
