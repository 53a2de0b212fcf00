package org.postern.smtp.core.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.Constants;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.dns.Resolver;
import org.postern.smtp.api.monitor.ServerMonitor;
import org.postern.smtp.api.monitor.ServerStatus;
import org.postern.smtp.core.internal.dispatch.HookRunner;
import org.postern.smtp.core.internal.dispatch.Statistics;
import org.postern.smtp.core.internal.netty.SmtpServer;
import org.postern.smtp.core.internal.protocol.ReverseLookup;
import org.postern.smtp.core.internal.protocol.SessionSettings;
import org.postern.smtp.core.internal.protocol.SessionSettings.BareLineEndings;
import org.postern.smtp.core.internal.protocol.Spool;
import org.postern.smtp.core.internal.tls.CertificateFiles;
import org.postern.smtp.core.internal.tls.SelfSignedCertificate;
import org.postern.smtp.core.internal.tls.ServerTls;
import org.postern.smtp.core.internal.tls.TlsSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SMTP server, configured by the PID {@code org.postern.smtp.server}; it starts once that exists, and
 * follows its changes without dropping open sessions.
 */
@Component(service = {SmtpServerComponent.class, ServerStatus.class}, immediate = true, configurationPid = SmtpServerComponent.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = SmtpServerComponent.Config.class)
public final class SmtpServerComponent implements ServerStatus {
    public static final String PID = "org.postern.smtp.server";
    private static final Logger LOG = LoggerFactory.getLogger(SmtpServerComponent.class);
    private static final int LOGGING_QUEUE_SIZE = 10_000;

    @ObjectClassDefinition(name = "Postern SMTP server", description = "Listeners, limits and timeouts of the SMTP core")
    public @interface Config {
        @AttributeDefinition(description = "Addresses to listen on, [name=]host:port, several allowed; a named listener's "
                + "own keys: listener.<name>.tls.implicit (TLS from the first byte, port 465), listener.<name>.auth.required "
                + "(MAIL only after AUTH), listener.<name>.tls.before.auth, listener.<name>.proxy.protocol (a PROXY protocol "
                + "header from a proxy in front names the client)")
        String[] listen() default {"127.0.0.1:2525"};

        @AttributeDefinition(description = "This server's host name, in replies and Received headers (qpsmtpd's 'me')")
        String me() default "localhost";

        @AttributeDefinition(description = "Greeting text after the host name")
        String greeting() default "ESMTP Postern ready";

        @AttributeDefinition(description = "Largest message accepted, in octets (advertised as SIZE)")
        long max_message_size() default 52_428_800L;

        @AttributeDefinition(description = "Recipients accepted per transaction")
        int max_recipients() default 100;

        @AttributeDefinition(description = "Longest command line, in octets without CRLF")
        int max_command_line_length() default 2048;

        @AttributeDefinition(description = "Longest line inside DATA, in octets; longer lines fail the message")
        int max_line_length() default 65_536;

        @AttributeDefinition(description = "Largest message header kept in memory, in octets; each header line counts 64 more")
        int max_header_size() default 102_400;

        @AttributeDefinition(description = "Syntax and sequence errors (500-504, 555) a client may make before 421 and disconnect")
        int max_errors() default 20;

        @AttributeDefinition(description = "Seconds a client may stay silent between commands")
        int command_timeout() default 300;

        @AttributeDefinition(description = "Seconds a client may stay silent inside DATA")
        int data_timeout() default 180;

        @AttributeDefinition(description = "Seconds a proxy may take to send the PROXY protocol header on a listener "
                + "with listener.<name>.proxy.protocol (Postfix's smtpd_upstream_proxy_timeout)")
        int proxy_timeout() default 5;

        @AttributeDefinition(description = "Open connections allowed in total")
        int max_connections() default 1000;

        @AttributeDefinition(description = "Open connections allowed from one IP address")
        int max_connections_per_ip() default 50;

        @AttributeDefinition(description = "Seconds one plugin call may take, unless the plugin sets postern.hook.timeout")
        int hook_timeout() default 30;

        @AttributeDefinition(description = "Seconds one queue plugin call may take (it makes the message durable), unless the plugin sets postern.hook.timeout")
        int queue_timeout() default 120;

        @AttributeDefinition(description = "Threads that run plugin code")
        int hook_threads() default 32;

        @AttributeDefinition(description = "Plugin calls that may wait for a hook thread; when full, clients get 421 4.3.2 (takes effect after a restart)")
        int hook_queue_size() default 10_000;

        @AttributeDefinition(description = "Netty I/O threads; 0 for twice the number of cores")
        int io_threads() default 0;

        @AttributeDefinition(description = "Bare LF or CR inside DATA: normalize (store as CRLF) or reject (554 and close); "
                + "in both, only CRLF.CRLF ends DATA")
        String bare_line_endings() default "normalize";

        @AttributeDefinition(description = "Message bytes kept in memory before the body moves to a spool file")
        int spool_memory_threshold() default 65_536;

        @AttributeDefinition(description = "Spool folder; empty for <data folder>/spool")
        String spool_dir() default "";

        @AttributeDefinition(description = "PEM file with the server's certificate or its whole chain (qpsmtpd's tls_cert); "
                + "further certificates, chosen by SNI: tls.cert.<label>, tls.key.<label>, tls.ca.<label>")
        String tls_cert() default "";

        @AttributeDefinition(description = "PEM file with the certificate's private key; empty: in the tls.cert file")
        String tls_key() default "";

        @AttributeDefinition(description = "PEM file with the issuing CA's certificates, appended to the chain")
        String tls_ca() default "";

        @AttributeDefinition(description = "PKCS#12 keystore whose key entries are further certificates")
        String tls_keystore() default "";

        @AttributeDefinition(description = "Password of the keystore", type = AttributeType.PASSWORD)
        String tls_keystore_password() default "";

        @AttributeDefinition(description = "With no certificate configured, generate a self-signed one for 'me' in the data folder, "
                + "so STARTTLS is offered; false: no TLS without a certificate")
        boolean tls_self_signed() default true;

        @AttributeDefinition(description = "TLS protocol versions offered")
        String[] tls_protocols() default {"TLSv1.3", "TLSv1.2"};

        // Mozilla's "intermediate" policy: TLS 1.3's suites, then forward-secret AEAD suites for TLS 1.2. A sending
        // server that cannot negotiate usually sends in the clear instead, so nothing stricter is the default.
        @AttributeDefinition(description = "TLS cipher suites offered, in Java's names; unsupported ones are skipped")
        String[] tls_ciphers() default {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"};

        @AttributeDefinition(description = "Seconds between checks whether the certificate files changed (then they are read again)")
        int tls_reload_interval() default 10;

        @AttributeDefinition(description = "Seconds a client may take to complete a TLS handshake")
        int tls_handshake_timeout() default 10;

        @AttributeDefinition(description = "With STARTTLS available, offer and accept AUTH only after STARTTLS (qpsmtpd's tls_before_auth)")
        boolean tls_before_auth() default true;

        @AttributeDefinition(description = "Milliseconds the reply to a session's first failed AUTH is held back; doubled per further failure; 0: no delay")
        int auth_failure_delay_ms() default 1000;

        @AttributeDefinition(description = "Longest delay of a failed AUTH's reply, in milliseconds")
        int auth_failure_delay_max_ms() default 16_000;

        @AttributeDefinition(description = "Failed AUTH attempts allowed from one client address (IPv6: one /64) within auth.failure.window; then 421 and close")
        int auth_failures_per_ip() default 30;

        @AttributeDefinition(description = "Seconds over which auth.failures.per.ip is counted")
        int auth_failure_window() default 600;

        @AttributeDefinition(description = "Per-IP limits count an IPv6 client by its network of this prefix length (1-128)")
        int ipv6_prefix_length() default 64;

        @AttributeDefinition(description = "Look up each client's host name (PTR) before pre_connection, when a DNS resolver is installed (qpsmtpd's remote_host)")
        boolean remote_host_lookup() default true;

        @AttributeDefinition(description = "Seconds open sessions may go on when the server stops (it accepts no new ones); "
                + "then those still open get 421 4.3.2 and are closed")
        int shutdown_grace() default 10;

        @AttributeDefinition(description = "Reply code given when a plugin fails or times out (4xx)")
        int hook_failure_code() default 451;

        @AttributeDefinition(description = "Reply text given when a plugin fails or times out")
        String hook_failure_text() default "Temporary failure, please try again later";
    }

    private final ThreadPoolExecutor hookExecutor;
    private final ScheduledThreadPoolExecutor hookTimer;
    /** Hands log lines to logging plugins in order; bounded, so a slow logging plugin costs lines, not memory. */
    private final ThreadPoolExecutor loggingThread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(LOGGING_QUEUE_SIZE), daemonThreads("postern-logging"));
    private final HookRegistry registry;
    private final ConfigItems items;
    private final UserConfigItems userItems;
    private final BundleContext context;
    private final int ioThreads;
    private final List<ServerMonitor> monitors = new CopyOnWriteArrayList<>();
    private final Statistics statistics = new Statistics(monitors);
    /** The listeners the configuration asks for, bound or not; health checks compare them with the bound ones. */
    private volatile List<SmtpServer.Listener> configuredListeners;
    private final SmtpServer server;
    private ScheduledFuture<?> certificateCheck;
    private volatile Duration shutdownGrace;
    /**
     * When the framework stops, the sessions get their grace period before any bundle stops: plugins of a higher
     * start level (deploy/'s) would otherwise stop first, and the sessions would finish without them.
     */
    private final SynchronousBundleListener frameworkStopping = this::drainWhenTheFrameworkStops;
    /** The server's DNS resolver, when a bundle provides one; it may come and go while the server runs. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile Resolver resolver;

    @Activate
    public SmtpServerComponent(Config config, Map<String, Object> properties, BundleContext context, @Reference HookRegistry registry,
            @Reference ConfigItems items, @Reference UserConfigItems userItems) {
        this.context = context;
        this.registry = registry;
        this.items = items;
        this.userItems = userItems;
        ioThreads = config.io_threads() > 0 ? config.io_threads() : 2 * Runtime.getRuntime().availableProcessors();
        hookExecutor = newHookExecutor(positive(config.hook_threads(), "hook.threads"), positive(config.hook_queue_size(), "hook.queue.size"));
        hookTimer = new ScheduledThreadPoolExecutor(1, daemonThreads("postern-hook-timer"));
        hookTimer.setRemoveOnCancelPolicy(true);
        SmtpServer started = null;
        try {
            List<SmtpServer.Listener> listeners = ListenerConfig.listeners(config.listen());
            SmtpServer.Setup setup = setup(config, properties, listeners);
            prepareSpool(setup.settings().spoolFolder(), true);
            started = new SmtpServer(ioThreads, registry::chains, setup, statistics);
            configuredListeners = listeners;
            List<String> failures = started.listenOn(listeners);
            if (!failures.isEmpty()) {
                throw new IllegalStateException("cannot listen: " + failures);
            }
        } catch (RuntimeException e) {
            if (started != null) {
                started.close();
            }
            hookExecutor.shutdownNow();
            hookTimer.shutdownNow();
            loggingThread.shutdown();
            throw e;
        }
        server = started;
        shutdownGrace = Duration.ofSeconds(notNegative(config.shutdown_grace(), "shutdown.grace"));
        context.addBundleListener(frameworkStopping);
        checkCertificatesEvery(config.tls_reload_interval());
    }

    private void drainWhenTheFrameworkStops(BundleEvent event) {
        if (event.getType() == BundleEvent.STOPPING && event.getBundle().getBundleId() == Constants.SYSTEM_BUNDLE_ID) {
            server.drain(shutdownGrace);
        }
    }

    /** Certificates are renewed on disk (Let's Encrypt every 60 days or so): pick up new files without a restart. */
    private synchronized void checkCertificatesEvery(int seconds) {
        if (certificateCheck != null) {
            certificateCheck.cancel(false);
        }
        certificateCheck = hookTimer.scheduleWithFixedDelay(() -> {
            ServerTls tls = server.setup().tls();
            if (tls != null) {
                tls.reloadIfChanged();
            }
        }, seconds, seconds, TimeUnit.SECONDS);
    }

    /**
     * A changed configuration applies to new connections; open sessions keep theirs and are never dropped.
     * A configuration with a bad value is refused as a whole, and the previous one stays in force.
     */
    @Modified
    void modified(Config config, Map<String, Object> properties) {
        SmtpServer.Setup setup;
        List<SmtpServer.Listener> listeners;
        try {
            listeners = ListenerConfig.listeners(config.listen());
            setup = setup(config, properties, listeners);
            positive(config.hook_threads(), "hook.threads");
            notNegative(config.shutdown_grace(), "shutdown.grace");
        } catch (IllegalArgumentException e) {
            LOG.error("configuration {} not applied, the previous one stays in force: {}", PID, e.getMessage());
            return;
        }
        int threads = config.hook_threads();
        if (threads > hookExecutor.getMaximumPoolSize()) {
            hookExecutor.setMaximumPoolSize(threads);
            hookExecutor.setCorePoolSize(threads);
        } else {
            hookExecutor.setCorePoolSize(threads);
            hookExecutor.setMaximumPoolSize(threads);
        }
        int wantedIoThreads = config.io_threads() > 0 ? config.io_threads() : 2 * Runtime.getRuntime().availableProcessors();
        if (wantedIoThreads != ioThreads) {
            LOG.warn("configuration {}: io.threads={} takes effect after a restart; {} I/O threads keep running",
                    PID, config.io_threads(), ioThreads);
        }
        int queueSize = hookExecutor.getQueue().size() + hookExecutor.getQueue().remainingCapacity();
        if (config.hook_queue_size() != queueSize) {
            LOG.warn("configuration {}: hook.queue.size={} takes effect after a restart; the queue keeps {} places",
                    PID, config.hook_queue_size(), queueSize);
        }
        prepareSpool(setup.settings().spoolFolder(), false);
        server.configure(setup);
        shutdownGrace = Duration.ofSeconds(config.shutdown_grace());
        checkCertificatesEvery(config.tls_reload_interval());
        configuredListeners = listeners;
        List<String> failures = server.listenOn(listeners);
        failures.forEach(failure -> LOG.error("configuration {}: key 'listen': cannot listen on {}", PID, failure));
        LOG.info("configuration {} applied to new connections", PID);
    }

    @Deactivate
    void deactivate() {
        context.removeBundleListener(frameworkStopping);
        server.drain(shutdownGrace);
        server.close();
        hookExecutor.shutdownNow();
        hookTimer.shutdownNow();
        loggingThread.shutdown();
        LOG.info("SMTP server stopped");
    }

    /**
     * Creates the spool folder; at start, also deletes the body files a crash left there (no session of this
     * server exists yet). A folder that cannot be made is logged: messages then fail with 452 at the dot.
     */
    private static void prepareSpool(Path folder, boolean sweep) {
        try {
            if (sweep) {
                int swept = Spool.prepareFolder(folder);
                if (swept > 0) {
                    LOG.warn("deleted {} spool file(s) left in {} by an earlier run", swept, folder);
                }
            } else {
                Files.createDirectories(folder);
            }
        } catch (IOException e) {
            LOG.error("spool folder {} cannot be used ({}); messages larger than spool.memory.threshold will be refused",
                    folder, e.toString());
        }
    }

    /** The listeners, with the addresses they are bound to. */
    public List<SmtpServer.Listener> boundListeners() {
        return server.boundListeners();
    }

    @Override
    public List<ServerStatus.Listener> listeners() {
        Map<String, InetSocketAddress> bound = new HashMap<>();
        server.boundListeners().forEach(listener -> bound.put(listener.name(), listener.address()));
        return configuredListeners.stream().map(listener -> new ServerStatus.Listener(listener.name(),
                listener.address().getHostString() + ":" + listener.address().getPort(), bound.get(listener.name()))).toList();
    }

    @Override
    public Map<String, Integer> sessionsByState() {
        return server.sessionsByActivity();
    }

    @Override
    public Path spoolFolder() {
        return server.setup().settings().spoolFolder();
    }

    @Override
    public long hookThreadsHeld() {
        return statistics.stuckCalls();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addMonitor(ServerMonitor monitor) {
        monitors.add(monitor);
    }

    void removeMonitor(ServerMonitor monitor) {
        monitors.remove(monitor);
    }

    /** The open sessions, one line each. */
    public List<String> sessions() {
        return server.describeSessions();
    }

    public Statistics statistics() {
        return statistics;
    }

    /** Builds a connection setup from the configuration, naming the key of the first bad value. */
    private SmtpServer.Setup setup(Config config, Map<String, Object> properties, List<SmtpServer.Listener> listeners) {
        SessionSettings settings = new SessionSettings(config.me(), config.greeting(),
                positive(config.max_message_size(), "max.message.size"),
                positive(config.max_recipients(), "max.recipients"),
                positive(config.max_command_line_length(), "max.command.line.length"),
                positive(config.max_header_size(), "max.header.size"),
                positive(config.max_errors(), "max.errors"),
                bareLineEndings(config.bare_line_endings()),
                spoolFolder(config, context),
                positive(config.spool_memory_threshold(), "spool.memory.threshold"),
                new SessionSettings.AuthPolicy(config.tls_before_auth(),
                        Duration.ofMillis(notNegative(config.auth_failure_delay_ms(), "auth.failure.delay.ms")),
                        Duration.ofMillis(notNegative(config.auth_failure_delay_max_ms(), "auth.failure.delay.max.ms"))));
        if (config.hook_failure_code() < 400 || config.hook_failure_code() > 499) {
            throw new IllegalArgumentException("key 'hook.failure.code': " + config.hook_failure_code() + " is not a 4xx code");
        }
        HookResult failure = HookResult.denySoft(config.hook_failure_text())
                .withReplyCode(config.hook_failure_code()).withEnhancedStatus("4.3.0");
        HookRunner runner = new HookRunner(hookExecutor, hookTimer,
                Duration.ofSeconds(positive(config.hook_timeout(), "hook.timeout")),
                Duration.ofSeconds(positive(config.queue_timeout(), "queue.timeout")), failure, statistics);
        CorePluginSupport support = new CorePluginSupport(runner, registry::chains, items::get, item -> switch (item) {
            case "me" -> List.of(config.me());
            case "databytes" -> List.of(Long.toString(config.max_message_size()));
            default -> List.of();
        }, userItems::get, loggingThread);
        SmtpServer.Limits limits = new SmtpServer.Limits(
                Math.max(positive(config.max_line_length(), "max.line.length"), config.max_command_line_length()),
                positive(config.command_timeout(), "command.timeout"), positive(config.data_timeout(), "data.timeout"),
                positive(config.max_connections(), "max.connections"),
                positive(config.max_connections_per_ip(), "max.connections.per.ip"),
                positive(config.auth_failures_per_ip(), "auth.failures.per.ip"),
                Duration.ofSeconds(positive(config.auth_failure_window(), "auth.failure.window")),
                ipv6PrefixLength(config.ipv6_prefix_length()), positive(config.proxy_timeout(), "proxy.timeout"));
        ReverseLookup reverseLookup = !config.remote_host_lookup() ? ReverseLookup.NONE : address -> {
            Resolver current = resolver;
            return current == null ? ReverseLookup.NONE.names(address) : current.ptr(address);
        };
        Map<String, SmtpServer.ListenerSettings> listenerSettings = ListenerConfig.listenerSettings(properties, listeners, settings);
        ServerTls tls = tls(config, properties);
        listenerSettings.forEach((name, own) -> {
            if (own.implicitTls() && tls == null) {
                throw new IllegalArgumentException("key 'listener." + name + ".tls.implicit': the server has no certificate "
                        + "(tls.cert, tls.keystore or tls.self.signed)");
            }
        });
        return new SmtpServer.Setup(settings, listenerSettings, limits, runner, support, tls, reverseLookup, false, false);
    }

    /**
     * The server's certificates: the configured ones, else (with {@code tls.self.signed}) one generated for {@code me}
     * in the data folder; null when there are none.
     */
    private ServerTls tls(Config config, Map<String, Object> properties) {
        TlsSettings settings = new TlsSettings(CertificateFiles.fromConfig(config.tls_cert(), config.tls_key(), config.tls_ca(), properties),
                CertificateFiles.optionalPath(config.tls_keystore()), config.tls_keystore_password(), List.of(config.tls_protocols()),
                List.of(config.tls_ciphers()), Duration.ofSeconds(positive(config.tls_handshake_timeout(), "tls.handshake.timeout")));
        positive(config.tls_reload_interval(), "tls.reload.interval");
        if (settings.none()) {
            if (!config.tls_self_signed()) {
                return null;
            }
            Path folder = dataFolder(context).resolve("tls");
            try {
                settings = settings.with(SelfSignedCertificate.ensure(folder, config.me()));
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalArgumentException("key 'tls.self.signed': cannot create a certificate in " + folder + ": " + e);
            }
            LOG.warn("STARTTLS uses a self-signed certificate for {} from {}; set tls.cert and tls.key to your own",
                    config.me(), folder);
        }
        ServerTls tls = ServerTls.create(settings);
        LOG.info("TLS certificates: {}", tls.describe());
        return tls;
    }

    private static <N extends Number> N positive(N value, String key) {
        if (value.longValue() <= 0) {
            throw new IllegalArgumentException("key '" + key + "': " + value + " must be positive");
        }
        return value;
    }

    private static int ipv6PrefixLength(int value) {
        if (value < 1 || value > 128) {
            throw new IllegalArgumentException("key 'ipv6.prefix.length': " + value + " is not between 1 and 128");
        }
        return value;
    }

    private static int notNegative(int value, String key) {
        if (value < 0) {
            throw new IllegalArgumentException("key '" + key + "': " + value + " must not be negative");
        }
        return value;
    }

    private static BareLineEndings bareLineEndings(String value) {
        try {
            return BareLineEndings.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("key 'bare.line.endings': '" + value + "' is neither reject nor normalize");
        }
    }

    private static Path spoolFolder(Config config, BundleContext context) {
        return config.spool_dir().isBlank() ? dataFolder(context).resolve("spool") : Path.of(config.spool_dir());
    }

    /** The instance's data folder: the launcher's {@code postern.data}, in Karaf {@code ${karaf.data}/postern}. */
    private static Path dataFolder(BundleContext context) {
        String data = context.getProperty("postern.data");
        if (data != null) {
            return Path.of(data);
        }
        String karafData = context.getProperty("karaf.data");
        return karafData != null ? Path.of(karafData, "postern") : Path.of(System.getProperty("java.io.tmpdir"), "postern");
    }


    private static ThreadPoolExecutor newHookExecutor(int threads, int queueSize) {
        ThreadPoolExecutor executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(queueSize),
                daemonThreads("postern-hook-"));
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    /** Daemon threads named {@code name}, numbered when the name ends in a dash. */
    private static ThreadFactory daemonThreads(String name) {
        AtomicInteger counter = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, name.endsWith("-") ? name + counter.incrementAndGet() : name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
