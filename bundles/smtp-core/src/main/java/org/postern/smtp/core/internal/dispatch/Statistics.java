package org.postern.smtp.core.internal.dispatch;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;
import org.postern.smtp.api.HookType;

/** Counters for administrators: connections, transactions, and denials per hook and plugin. */
public final class Statistics {
    private final LongAdder connections = new LongAdder();
    private final LongAdder refusedConnections = new LongAdder();
    private final LongAdder queued = new LongAdder();
    private final LongAdder notQueued = new LongAdder();
    private final ConcurrentMap<String, LongAdder> denials = new ConcurrentHashMap<>();
    private final LongAdder stuckCalls = new LongAdder();
    private final LongAdder stuckCallsEver = new LongAdder();

    public void connection() {
        connections.increment();
    }

    public void refusedConnection() {
        refusedConnections.increment();
    }

    /** A transaction ended: the message was queued (250), or it was refused or failed at or after DATA. */
    public void transaction(boolean wasQueued) {
        (wasQueued ? queued : notQueued).increment();
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
}
