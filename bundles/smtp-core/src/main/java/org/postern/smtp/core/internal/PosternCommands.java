package org.postern.smtp.core.internal;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.postern.smtp.api.HookType;
import org.postern.smtp.core.internal.dispatch.HookChains;
import org.postern.smtp.core.internal.dispatch.RegisteredHook;
import org.postern.smtp.core.internal.netty.SmtpServer;

/**
 * Administrators' commands, as Gogo commands (the Felix shell of the standalone launcher, and Karaf's shell):
 * {@code postern:listeners}, {@code postern:chains}, {@code postern:sessions}, {@code postern:counters}.
 */
@Component(service = PosternCommands.class, property = {
    "osgi.command.scope=postern",
    "osgi.command.function=listeners",
    "osgi.command.function=chains",
    "osgi.command.function=sessions",
    "osgi.command.function=counters"
})
public final class PosternCommands {
    private final HookRegistry registry;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile SmtpServerComponent server;

    @Activate
    public PosternCommands(@Reference HookRegistry registry) {
        this.registry = registry;
    }

    /** The addresses the SMTP server listens on. */
    public String listeners() {
        SmtpServerComponent current = server;
        if (current == null) {
            return "The SMTP server is not running: it has no configuration " + SmtpServerComponent.PID + " yet.";
        }
        return current.boundListeners().stream().map(listener -> "listening on " + listener.address() + " (" + listener.name() + ")")
                .collect(Collectors.joining("\n"));
    }

    /**
     * For each listener, and in it each hook that has plugins: the plugins in the order they run, with their order
     * and bundle. Without a running server, every plugin of every hook.
     */
    public String chains() {
        HookChains all = registry.chains();
        SmtpServerComponent current = server;
        if (current == null) {
            return describe(all).orElse("No plugins are registered.");
        }
        Map<String, List<String>> addressesByName = current.boundListeners().stream().collect(Collectors.groupingBy(
                SmtpServer.Listener::name, LinkedHashMap::new, Collectors.mapping(listener -> listener.address().toString(), Collectors.toList())));
        StringBuilder text = new StringBuilder();
        addressesByName.forEach((name, addresses) -> text.append("listener ").append(name).append(" (")
                .append(String.join(", ", addresses)).append(")\n")
                .append(describe(all.forListener(name)).orElse("  no plugins")).append('\n'));
        return text.toString().stripTrailing();
    }

    private Optional<String> describe(HookChains chains) {
        StringBuilder text = new StringBuilder();
        for (HookType hook : HookType.values()) {
            List<RegisteredHook> chain = chains.chain(hook);
            if (chain.isEmpty()) {
                continue;
            }
            text.append(hook.hookName()).append('\n');
            for (RegisteredHook plugin : chain) {
                text.append(String.format("  %6d  %-24s %s (service %d)%n", plugin.order(), plugin.pluginName(),
                        registry.bundleOf(plugin.serviceId()), plugin.serviceId()));
            }
        }
        return text.length() == 0 ? Optional.empty() : Optional.of(text.toString().stripTrailing());
    }

    /** The open SMTP sessions: id, client, state, age, HELO name. */
    public String sessions() {
        SmtpServerComponent current = server;
        if (current == null) {
            return "The SMTP server is not running.";
        }
        List<String> sessions = current.sessions();
        return sessions.isEmpty() ? "No open sessions." : String.join("\n", sessions);
    }

    /** Connections, messages queued or not, and denials per hook and plugin since the server started. */
    public String counters() {
        SmtpServerComponent current = server;
        if (current == null) {
            return "The SMTP server is not running.";
        }
        Map<String, Long> counters = current.statistics().snapshot();
        return counters.entrySet().stream().map(e -> String.format("%10d  %s", e.getValue(), e.getKey()))
                .collect(Collectors.joining("\n"));
    }
}
