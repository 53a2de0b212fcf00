package org.postern.metrics.internal;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.jmx.JmxConfig;
import io.micrometer.jmx.JmxMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToDoubleFunction;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.monitor.QueueStatus;
import org.postern.smtp.api.monitor.ServerMonitor;
import org.postern.smtp.api.monitor.ServerStatus;
import org.postern.smtp.api.monitor.TransactionRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's events and status as Micrometer meters, in a Prometheus registry (scraped by {@link MetricsEndpoint})
 * and, when enabled, a JMX registry. Events come on the server's threads, Netty's event loops among them: each one
 * finds its meter in a map and counts, without building or registering anything after the first time. The gauges
 * read the server's status when they are read, so nothing polls.
 */
@Component(service = {ServerMonitor.class, ServerMetrics.class}, configurationPid = ServerMetrics.PID, immediate = true)
@Designate(ocd = ServerMetrics.Config.class)
public final class ServerMetrics implements ServerMonitor {
    static final String PID = "org.postern.metrics";
    private static final Logger LOG = LoggerFactory.getLogger(ServerMetrics.class);
    /** Buckets of the plugin latency histogram: a few, where a person draws the line, not Micrometer's ~70. */
    private static final Duration[] PLUGIN_LATENCY_BUCKETS = {Duration.ofMillis(1), Duration.ofMillis(5),
            Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(500),
            Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(30)};

    @ObjectClassDefinition(name = "Postern metrics",
            description = "The server's connections, transactions, plugin calls and status as Prometheus metrics and JMX MBeans")
    public @interface Config {
        @AttributeDefinition(description = "Path of the Prometheus endpoint on the HTTP service")
        String path() default MetricsEndpoint.DEFAULT_PATH;

        @AttributeDefinition(description = "Publish the metrics as MBeans on the platform MBean server too")
        boolean jmx_enabled() default true;

        @AttributeDefinition(description = "JMX domain of the MBeans")
        String jmx_domain() default "postern";
    }

    private record PluginCall(HookType hook, String plugin, String outcome) {
    }

    private record Ending(String listener, TransactionRecord.Outcome outcome) {
    }

    private final CompositeMeterRegistry registry = new CompositeMeterRegistry();
    private final PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    private final AtomicReference<ServerStatus> status = new AtomicReference<>();
    private final SpoolCount spool = new SpoolCount();
    private final Set<String> sessionStates = ConcurrentHashMap.newKeySet();
    private final Map<QueueStatus, Gauge> queueGauges = new ConcurrentHashMap<>();
    private JmxMeterRegistry jmx;
    private Config config;

    private final MeterCache<String, Counter> accepted = new MeterCache<>(listener -> connections(listener, "accepted"));
    private final MeterCache<String, Counter> refused = new MeterCache<>(listener -> connections(listener, "refused"));
    private final MeterCache<String, Timer> sessionDurations = new MeterCache<>(listener -> Timer.builder("postern.session.duration")
            .description("How long sessions lasted, from connect to close").tag("listener", listener).register(registry));
    private final MeterCache<Ending, Counter> transactions = new MeterCache<>(ending -> Counter.builder("postern.transactions")
            .description("Mail transactions that ended, by how they ended")
            .tags("listener", ending.listener(), "result", ending.outcome().name().toLowerCase(Locale.ROOT)).register(registry));
    private final MeterCache<PluginCall, Timer> pluginLatencies = new MeterCache<>(call -> Timer.builder("postern.plugin.latency")
            .description("Time from calling a plugin at a hook to its answer, by what it answered")
            .tags("hook", call.hook().hookName(), "plugin", call.plugin(), "outcome", call.outcome())
            .serviceLevelObjectives(PLUGIN_LATENCY_BUCKETS).register(registry));
    private final DistributionSummary messageSizes = DistributionSummary.builder("postern.message.size")
            .description("Sizes of the messages queued").baseUnit("bytes").register(registry);

    @Activate
    public ServerMetrics(Config config) {
        registry.add(prometheus);
        applyJmx(config);
        this.config = config;
        gauge("postern.spool.free", "bytes", "Bytes usable on the file store of the spool folder", SpoolCount::usableBytes);
        gauge("postern.spool.files", null, "Files in the spool folder now", folder -> spool.of(folder).files());
        gauge("postern.spool.bytes", "bytes", "Bytes of the files in the spool folder now", folder -> spool.of(folder).bytes());
        Gauge.builder("postern.hook.threads.held", this, metrics -> metrics.fromStatus(ServerStatus::hookThreadsHeld))
                .description("Hook threads held by plugin calls that ran past their timeout").strongReference(true).register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
    }

    /** Turns the JMX registry on, off or to another domain without losing what the meters counted so far. */
    @Modified
    void modified(Config changed) {
        if (changed.jmx_enabled() != config.jmx_enabled() || !changed.jmx_domain().equals(config.jmx_domain())) {
            stopJmx();
            applyJmx(changed);
        }
        config = changed;
    }

    private void applyJmx(Config config) {
        if (config.jmx_enabled()) {
            String domain = config.jmx_domain();
            jmx = new JmxMeterRegistry(new JmxConfig() {
                @Override
                public String get(String key) {
                    return null;
                }

                @Override
                public String domain() {
                    return domain;
                }
            }, Clock.SYSTEM);
            registry.add(jmx);
            LOG.info("metrics as MBeans in the JMX domain {}", domain);
        }
    }

    private void stopJmx() {
        if (jmx != null) {
            registry.remove(jmx);
            jmx.close();
            jmx = null;
        }
    }

    @Deactivate
    void deactivate() {
        gcMetrics.close();
        stopJmx();
        registry.close();
    }

    /** What the Prometheus endpoint scrapes. */
    PrometheusMeterRegistry prometheus() {
        return prometheus;
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindStatus(ServerStatus bound) {
        status.set(bound);
        // every state is in the map, so the server names them rather than this bundle
        for (String state : bound.sessionsByState().keySet()) {
            if (sessionStates.add(state)) {
                Gauge.builder("postern.sessions", this, metrics -> metrics.fromStatus(now -> now.sessionsByState().getOrDefault(state, 0)))
                        .description("Open sessions by what they are doing").tag("state", state).strongReference(true).register(registry);
            }
        }
    }

    void unbindStatus(ServerStatus unbound) {
        status.compareAndSet(unbound, null);
    }

    /** A plugin's mail queue: its depth as {@code postern.queue.messages}, while the plugin is there. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindQueue(QueueStatus queue) {
        queueGauges.computeIfAbsent(queue, bound -> Gauge.builder("postern.queue.messages", bound, QueueStatus::messages)
                .description("Messages in a plugin's mail queue, waiting for delivery or being delivered")
                .tag("queue", bound.queue()).strongReference(true).register(registry));
    }

    void unbindQueue(QueueStatus queue) {
        Gauge gauge = queueGauges.remove(queue);
        if (gauge != null) {
            registry.remove(gauge);
        }
    }

    @Override
    public void connectionOpened(String listener) {
        accepted.get(listener).increment();
    }

    @Override
    public void connectionRefused(String listener) {
        refused.get(listener).increment();
    }

    @Override
    public void connectionClosed(String listener, Duration length) {
        sessionDurations.get(listener).record(length);
    }

    @Override
    public void pluginAnswered(HookType hook, String plugin, String outcome, Duration elapsed) {
        pluginLatencies.get(new PluginCall(hook, plugin, outcome)).record(elapsed);
    }

    @Override
    public void transactionEnded(TransactionRecord transaction) {
        transactions.get(new Ending(transaction.listener(), transaction.outcome())).increment();
        if (transaction.outcome() == TransactionRecord.Outcome.QUEUED) {
            messageSizes.record(transaction.size());
        }
    }

    private Counter connections(String listener, String result) {
        return Counter.builder("postern.connections").description("Client connections, accepted or refused by a connection limit")
                .tags("listener", listener, "result", result).register(registry);
    }

    private void gauge(String name, String baseUnit, String description, ToDoubleFunction<Path> reading) {
        Gauge.builder(name, this, metrics -> metrics.fromStatus(now -> reading.applyAsDouble(now.spoolFolder())))
                .baseUnit(baseUnit).description(description).strongReference(true).register(registry);
    }

    /** What the server's status says now, NaN while no server runs. */
    private double fromStatus(ToDoubleFunction<ServerStatus> reading) {
        ServerStatus now = status.get();
        return now == null ? Double.NaN : reading.applyAsDouble(now);
    }
}
