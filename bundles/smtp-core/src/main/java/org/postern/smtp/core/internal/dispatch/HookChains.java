package org.postern.smtp.core.internal.dispatch;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.postern.smtp.api.HookType;

/**
 * An immutable snapshot: for each hook, its plugins in run order. A session takes one per command, the one of its
 * listener ({@link #forListener(String)}).
 */
public final class HookChains {
    public static final HookChains EMPTY = new HookChains(new EnumMap<>(HookType.class));

    private final Map<HookType, List<RegisteredHook>> chains;
    /** Some plugin runs on named listeners only; then each listener has a chain of its own. */
    private final boolean listenerSpecific;
    private final Map<String, HookChains> byListener = new ConcurrentHashMap<>();

    private HookChains(Map<HookType, List<RegisteredHook>> chains) {
        this.chains = chains;
        this.listenerSpecific = chains.values().stream().flatMap(List::stream).anyMatch(hook -> !hook.listeners().isEmpty());
    }

    /** The chains of a listener's sessions: without the plugins that run on other listeners only. */
    public HookChains forListener(String listener) {
        if (!listenerSpecific) {
            return this;
        }
        return byListener.computeIfAbsent(listener, name -> {
            Map<HookType, List<RegisteredHook>> filtered = new EnumMap<>(HookType.class);
            chains.forEach((hook, chain) -> {
                List<RegisteredHook> running = chain.stream().filter(plugin -> plugin.runsOn(name)).toList();
                if (!running.isEmpty()) {
                    filtered.put(hook, running);
                }
            });
            return new HookChains(filtered);
        });
    }

    /** Builds a snapshot from (hook, plugin) registrations in any order. */
    public static HookChains of(Collection<Map.Entry<HookType, RegisteredHook>> registrations) {
        Map<HookType, List<RegisteredHook>> building = new EnumMap<>(HookType.class);
        for (Map.Entry<HookType, RegisteredHook> registration : registrations) {
            building.computeIfAbsent(registration.getKey(), k -> new ArrayList<>()).add(registration.getValue());
        }
        Map<HookType, List<RegisteredHook>> sorted = new EnumMap<>(HookType.class);
        building.forEach((hook, list) -> {
            list.sort(RegisteredHook.RUN_ORDER);
            sorted.put(hook, List.copyOf(list));
        });
        return new HookChains(sorted);
    }

    public List<RegisteredHook> chain(HookType hook) {
        return chains.getOrDefault(hook, List.of());
    }

    public boolean has(HookType hook) {
        return chains.containsKey(hook);
    }
}
