package org.postern.smtp.plugin.queue.spool.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.dns.Resolver;
import org.postern.smtp.api.monitor.QueueStatus;
import org.postern.smtp.client.ClientSettings;
import org.postern.smtp.client.Destination;
import org.postern.smtp.client.SmtpClient;
import org.postern.smtp.client.TlsPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue's delivery engine, started with the bundle: the spool on disk, the SMTP client and the
 * {@link QueueRunner} that delivers what is queued to the next hop ({@code relayhost}, {@code lmtp}, or the
 * recipients' MX hosts through the {@link Resolver} service). The {@code queue} hook ({@link QueueSpool}) and the
 * shell commands ({@link QueueCommands}) reach the queue through it.
 */
@Component(service = {DeliveryEngine.class, QueueStatus.class}, configurationPid = DeliveryEngine.PID)
@Designate(ocd = DeliveryEngine.Config.class)
public final class DeliveryEngine implements QueueStatus {
    static final String PID = "org.postern.smtp.plugin.queue.spool";
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryEngine.class);

    @ObjectClassDefinition(name = "Postern plugin: queue/spool")
    public @interface Config {
        @AttributeDefinition(description = "The queue folder; empty for <data folder>/queue")
        String queue_dir() default "";

        @AttributeDefinition(description = "A smarthost for every message: host, host:port or [address]:port (port 25); empty for none")
        String relayhost() default "";

        @AttributeDefinition(description = "An LMTP server for every message: host:port (port 24 if none), or unix:/path of a socket; empty for none")
        String lmtp() default "";

        @AttributeDefinition(description = "STARTTLS: none, may (opportunistic), encrypt (required, unverified), verify (required, checked; relayhost only)")
        String tls() default "may";

        @AttributeDefinition(description = "For tls = verify: PEM file of the certificates to trust; empty for the JVM's trust store")
        String tls_ca_file() default "";

        @AttributeDefinition(description = "AUTH user name at the relayhost; empty for no AUTH")
        String auth_user() default "";

        @AttributeDefinition(description = "AUTH password", type = AttributeType.PASSWORD)
        String auth_password() default "";

        @AttributeDefinition(description = "Send the credentials even without TLS")
        boolean auth_without_tls() default false;

        @AttributeDefinition(description = "Name for EHLO/LHLO; empty for the server's own name (me) when the message came in")
        String helo() default "";

        @AttributeDefinition(description = "Seconds to wait after the first failure; doubled after each further one")
        int retry_initial() default 300;

        @AttributeDefinition(description = "Most seconds to wait between attempts")
        int retry_max() default 3600;

        @AttributeDefinition(description = "Seconds a message may stay queued before its pending recipients bounce (5 days)")
        int max_age() default 432000;

        @AttributeDefinition(description = "Most messages being delivered at once")
        int delivery_concurrency() default 20;

        @AttributeDefinition(description = "Seconds to connect")
        int timeout_connect() default 30;

        @AttributeDefinition(description = "Seconds for each reply to a command")
        int timeout_command() default 300;

        @AttributeDefinition(description = "Seconds the server may take no part of the message while it is sent")
        int timeout_data() default 180;

        @AttributeDefinition(description = "Seconds for the reply to the final dot")
        int timeout_data_end() default 600;
    }

    private final String helo;
    private final ThreadPoolExecutor clientThreads;
    private final SmtpClient client;
    private final QueueRunner runner;

    /**
     * The resolver is a static reference: with it bound from the start, the first MX lookup after a start does not
     * find it missing. When it appears or goes, the engine restarts and recovers the queue from disk.
     */
    @Activate
    public DeliveryEngine(Config config, BundleContext context,
            @Reference(cardinality = ReferenceCardinality.OPTIONAL, policyOption = ReferencePolicyOption.GREEDY) Resolver resolver) {
        Path dir = config.queue_dir().isBlank() ? Path.of(Optional.ofNullable(context.getProperty("postern.data"))
                .orElse(System.getProperty("java.io.tmpdir")), "queue") : Path.of(config.queue_dir().strip());
        helo = config.helo().strip();
        int concurrency = config.delivery_concurrency();
        AtomicInteger count = new AtomicInteger();
        // the client resolves host names and reads messages on these: as many as messages are sent at once
        clientThreads = new ThreadPoolExecutor(Math.max(2, concurrency), Math.max(2, concurrency), 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                task -> {
                    Thread thread = new Thread(task, "postern-queue-spool-client-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        clientThreads.allowCoreThreadTimeOut(true);
        client = SmtpClient.create(ClientSettings.defaults()
                .withTimeouts(Duration.ofSeconds(config.timeout_connect()), Duration.ofSeconds(config.timeout_command()),
                        Duration.ofSeconds(config.timeout_data()), Duration.ofSeconds(config.timeout_data_end()))
                .withPool(Math.max(1, concurrency), Duration.ofSeconds(30)), clientThreads);
        try {
            NextHop hop = nextHop(config, client, resolver);
            runner = new QueueRunner(new Spool(dir, Clock.systemUTC()), hop, Clock.systemUTC(),
                    new RetrySchedule(Duration.ofSeconds(config.retry_initial()), Duration.ofSeconds(config.retry_max())),
                    Duration.ofSeconds(config.max_age()), concurrency);
        } catch (IOException e) {
            close();
            throw new UncheckedIOException(PID + ": cannot use the queue folder " + dir, e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        runner.start();
        LOG.info("queue in {}, delivering to {}", dir, !config.relayhost().isBlank() ? "relayhost " + config.relayhost().strip()
                : !config.lmtp().isBlank() ? "LMTP server " + config.lmtp().strip() : "the recipients' MX hosts");
    }

    /** The relayhost, the LMTP server, or the MX hosts: the configuration names one. */
    static NextHop nextHop(Config config, SmtpClient client, Resolver resolver) {
        boolean relay = !config.relayhost().isBlank();
        boolean lmtp = !config.lmtp().isBlank();
        if (relay && lmtp) {
            throw new IllegalArgumentException(PID + ": set relayhost or lmtp, not both");
        }
        TlsPolicy tls = TlsPolicy.parse(config.tls());
        Path trusted = config.tls_ca_file().isBlank() ? null : Path.of(config.tls_ca_file().strip());
        if (relay || lmtp) {
            Destination server = RelayHop.parse(relay ? config.relayhost() : config.lmtp(), lmtp).withTls(tls, trusted);
            return new RelayHop(client, config.auth_user().isEmpty() ? server
                    : server.withAuth(config.auth_user(), config.auth_password(), config.auth_without_tls()));
        }
        if (tls == TlsPolicy.VERIFY) {
            throw new IllegalArgumentException(PID + ": tls = verify needs a relayhost (MX hosts are reached by address, with no name to check)");
        }
        return new MxHop(() -> resolver, client, 25, tls);
    }

    @Deactivate
    void deactivate() {
        runner.stop();
        close();
    }

    private void close() {
        client.close();
        clientThreads.shutdown();
    }

    /** The EHLO name for a message that arrives while the server calls itself {@code me}. */
    String heloName(String me) {
        return helo.isEmpty() ? me : helo;
    }

    CompletionStage<String> enqueue(Spool.NewMessage message, Spool.Content content, BooleanSupplier commit) {
        return runner.enqueue(message, content, commit);
    }

    @Override
    public String queue() {
        return "queue/spool";
    }

    @Override
    public int messages() {
        return runner.size();
    }

    CompletionStage<List<QueueRunner.Listing>> list() {
        return runner.list();
    }

    CompletionStage<Integer> flush(Optional<String> id) {
        return runner.flush(id);
    }

    CompletionStage<Boolean> delete(String id) {
        return runner.delete(id);
    }
}
