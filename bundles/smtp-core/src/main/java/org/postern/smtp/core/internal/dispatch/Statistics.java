package org.postern.smtp.core.internal.dispatch;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.monitor.ServerMonitor;
import org.postern.smtp.api.monitor.TransactionRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counters for administrators (connections, transactions, denials per hook and plugin), and the events behind
 * them told to the {@link ServerMonitor}s registered now, for metrics that outlive this server's configuration.
 */
public final class Statistics {
    private static final Logger LOG = LoggerFactory.getLogger(Statistics.class);

    private final LongAdder connections = new LongAdder();
    private final LongAdder refusedConnections = new LongAdder();
    private final LongAdder queued = new LongAdder();
    private final LongAdder notQueued = new LongAdder();
    private final ConcurrentMap<String, LongAdder> denials = new ConcurrentHashMap<>();
    private final LongAdder stuckCalls = new LongAdder();
    private final LongAdder stuckCallsEver = new LongAdder();
    private final List<ServerMonitor> monitors;

    /** Counts without telling anyone. */
    public Statistics() {
        this(List.of());
    }

    /** @param monitors read at each event, so monitors may come and go (a concurrent or immutable list) */
    public Statistics(List<ServerMonitor> monitors) {
        this.monitors = monitors;
    }

    public void connection(String listener) {
        connections.increment();
        tell(monitor -> monitor.connectionOpened(listener));
    }

    public void refusedConnection(String listener) {
        refusedConnections.increment();
        tell(monitor -> monitor.connectionRefused(listener));
    }

    public void connectionClosed(String listener, Duration length) {
        tell(monitor -> monitor.connectionClosed(listener, length));
    }

    /** A transaction ended; counted as queued or not only when the client sent a message. */
    public void transaction(TransactionRecord ended) {
        if (ended.outcome() == TransactionRecord.Outcome.QUEUED) {
            queued.increment();
        } else if (ended.outcome() == TransactionRecord.Outcome.REFUSED && ended.size() > 0) {
            notQueued.increment();
        }
        tell(monitor -> monitor.transactionEnded(ended));
    }

    /** A plugin answered (or failed, or timed out) after {@code nanos}. */
    void pluginAnswered(HookType hook, RegisteredHook plugin, String outcome, long nanos) {
        if (!monitors.isEmpty()) {
            Duration elapsed = Duration.ofNanos(nanos);
            tell(monitor -> monitor.pluginAnswered(hook, plugin.pluginName(), outcome, elapsed));
        }
    }

    void denial(HookType hook, String plugin) {
        denials.computeIfAbsent(hook.hookName() + " " + plugin, key -> new LongAdder()).increment();
    }

    /** A plugin call ran past its timeout and still holds its hook thread. */
    void stuckCallStarted() {
        stuckCalls.increment();
        stuckCallsEver.increment();
    }

    /** A call that ran past its timeout returned at last, freeing its thread. */
    void stuckCallReturned() {
        stuckCalls.decrement();
    }

    /** Hook threads held now by plugin calls past their timeout. */
    public long stuckCalls() {
        return stuckCalls.sum();
    }

    /** All counters by name, denials as {@code denied <hook> <plugin>}, in name order. */
    public Map<String, Long> snapshot() {
        Map<String, Long> counters = new TreeMap<>();
        counters.put("connections accepted", connections.sum());
        counters.put("connections refused (limits)", refusedConnections.sum());
        counters.put("messages queued", queued.sum());
        counters.put("messages not queued", notQueued.sum());
        counters.put("hook threads held by calls past their timeout", stuckCalls.sum());
        counters.put("plugin calls that ran past their timeout", stuckCallsEver.sum());
        denials.forEach((key, count) -> counters.put("denied " + key, count.sum()));
        return counters;
    }

    private void tell(Consumer<ServerMonitor> event) {
        for (ServerMonitor monitor : monitors) {
            try {
                event.accept(monitor);
            } catch (RuntimeException e) {
                LOG.warn("server monitor {} failed", monitor.getClass().getName(), e);
            }
        }
    }
}
