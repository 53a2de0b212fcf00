package org.postern.smtp.core.internal;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.core.internal.dispatch.HookRunner;
import org.postern.smtp.core.internal.netty.SmtpServer;
import org.postern.smtp.core.internal.protocol.SessionSettings;
import org.postern.smtp.core.internal.protocol.SessionSettings.BareLineEndings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The SMTP server, configured by the PID {@code org.postern.smtp.server}; it starts once that exists. */
@Component(service = {}, configurationPid = SmtpServerComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = SmtpServerComponent.Config.class)
public final class SmtpServerComponent {
    public static final String PID = "org.postern.smtp.server";
    private static final Logger LOG = LoggerFactory.getLogger(SmtpServerComponent.class);

    @ObjectClassDefinition(name = "Postern SMTP server", description = "Listeners, limits and timeouts of the SMTP core")
    public @interface Config {
        @AttributeDefinition(description = "Addresses to listen on, host:port, several allowed")
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

        @AttributeDefinition(description = "Largest message header kept in memory, in octets")
        int max_header_size() default 1_048_576;

        @AttributeDefinition(description = "Seconds a client may stay silent between commands")
        int command_timeout() default 300;

        @AttributeDefinition(description = "Seconds a client may stay silent inside DATA")
        int data_timeout() default 180;

        @AttributeDefinition(description = "Open connections allowed in total")
        int max_connections() default 1000;

        @AttributeDefinition(description = "Open connections allowed from one IP address")
        int max_connections_per_ip() default 50;

        @AttributeDefinition(description = "Seconds one plugin call may take, unless the plugin sets postern.hook.timeout")
        int hook_timeout() default 30;

        @AttributeDefinition(description = "Threads that run plugin code")
        int hook_threads() default 32;

        @AttributeDefinition(description = "Netty I/O threads; 0 for twice the number of cores")
        int io_threads() default 0;

        @AttributeDefinition(description = "Bare LF or CR inside DATA: reject (554 and close) or normalize (store as CRLF)")
        String bare_line_endings() default "reject";

        @AttributeDefinition(description = "Message bytes kept in memory before the body moves to a spool file")
        int spool_memory_threshold() default 65_536;

        @AttributeDefinition(description = "Spool folder; empty for <data folder>/spool")
        String spool_dir() default "";

        @AttributeDefinition(description = "Reply code given when a plugin fails or times out (4xx)")
        int hook_failure_code() default 451;

        @AttributeDefinition(description = "Reply text given when a plugin fails or times out")
        String hook_failure_text() default "Temporary failure, please try again later";
    }

    private final ThreadPoolExecutor hookExecutor;
    private final ScheduledThreadPoolExecutor hookTimer;
    private final SmtpServer server;

    @Activate
    public SmtpServerComponent(Config config, BundleContext context, @Reference HookRegistry registry,
            @Reference ConfigItems items) throws InterruptedException {
        SessionSettings settings = new SessionSettings(config.me(), config.greeting(), config.max_message_size(),
                config.max_recipients(), config.max_command_line_length(), config.max_header_size(),
                BareLineEndings.valueOf(config.bare_line_endings().trim().toUpperCase(Locale.ROOT)),
                spoolFolder(config, context), config.spool_memory_threshold());
        hookExecutor = newHookExecutor(config.hook_threads());
        hookTimer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "postern-hook-timer");
            thread.setDaemon(true);
            return thread;
        });
        hookTimer.setRemoveOnCancelPolicy(true);
        HookResult failure = HookResult.denySoft(config.hook_failure_text())
                .withReplyCode(config.hook_failure_code()).withEnhancedStatus("4.3.0");
        HookRunner runner = new HookRunner(hookExecutor, hookTimer, Duration.ofSeconds(config.hook_timeout()), failure);
        CorePluginSupport support = new CorePluginSupport(runner, registry::chains, items::get, item -> switch (item) {
            case "me" -> List.of(config.me());
            case "databytes" -> List.of(Long.toString(config.max_message_size()));
            default -> List.of();
        });
        int ioThreads = config.io_threads() > 0 ? config.io_threads() : 2 * Runtime.getRuntime().availableProcessors();
        server = new SmtpServer(settings, new SmtpServer.Limits(Math.max(config.max_line_length(), config.max_command_line_length()),
                config.command_timeout(), config.data_timeout(), config.max_connections(), config.max_connections_per_ip(),
                ioThreads), runner, registry::chains, support);
        try {
            for (String listen : config.listen()) {
                for (String address : listen.split(",")) {
                    if (!address.isBlank()) {
                        server.listen(parseAddress(address));
                    }
                }
            }
        } catch (RuntimeException | InterruptedException e) {
            server.close();
            hookExecutor.shutdownNow();
            hookTimer.shutdownNow();
            throw e;
        }
    }

    @Deactivate
    void deactivate() {
        server.close();
        hookExecutor.shutdownNow();
        hookTimer.shutdownNow();
        LOG.info("SMTP server stopped");
    }

    private static Path spoolFolder(Config config, BundleContext context) {
        if (!config.spool_dir().isBlank()) {
            return Path.of(config.spool_dir());
        }
        String data = context.getProperty("postern.data");
        return data != null ? Path.of(data, "spool") : Path.of(System.getProperty("java.io.tmpdir"), "postern-spool");
    }

    private static ThreadPoolExecutor newHookExecutor(int threads) {
        AtomicInteger counter = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                task -> {
                    Thread thread = new Thread(task, "postern-hook-" + counter.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    static InetSocketAddress parseAddress(String listen) {
        String text = listen.trim();
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("listen address needs host:port, got '" + listen + "'");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host, Integer.parseInt(text.substring(colon + 1)));
    }
}
