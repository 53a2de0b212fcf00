package org.postern.smtp.core.internal;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.postern.smtp.api.HookType;
import org.postern.smtp.core.internal.dispatch.RegisteredHook;

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
        return current.listeners().stream().map(address -> "listening on " + address).collect(Collectors.joining("\n"));
    }

    /** For each hook that has plugins: the plugins in the order they run, with their order and bundle. */
    public String chains() {
        StringBuilder text = new StringBuilder();
        for (HookType hook : HookType.values()) {
            List<RegisteredHook> chain = registry.chains().chain(hook);
            if (chain.isEmpty()) {
                continue;
            }
            text.append(hook.hookName()).append('\n');
            for (RegisteredHook plugin : chain) {
                text.append(String.format("  %6d  %-24s %s (service %d)%n", plugin.order(), plugin.pluginName(),
                        registry.bundleOf(plugin.serviceId()), plugin.serviceId()));
            }
        }
        return text.length() == 0 ? "No plugins are registered." : text.toString().stripTrailing();
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
