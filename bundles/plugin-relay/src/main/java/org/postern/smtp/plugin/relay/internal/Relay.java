package org.postern.smtp.plugin.relay.internal;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.ConnectHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.Session;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * qpsmtpd's {@code relay}: at connect, a client whose address is in the config items {@code relayclients} or
 * {@code morerelayclients}, and not in {@code norelayclients}, is noted as a relay client
 * ({@link SharedNotes#RELAY_CLIENT}), which rcpt_ok and every immune-aware plugin honour. With {@code only}, it
 * also refuses at RCPT every recipient of a client that may not relay.
 */
@Component(service = {ConnectHook.class, RcptHook.class}, configurationPid = "org.postern.smtp.plugin.relay")
@Designate(ocd = Relay.Config.class)
@PosternPlugin("relay")
@PosternHook({"connect", "rcpt"})
@HookOrder(175)
public final class Relay implements ConnectHook, RcptHook {
    private static final Set<String> FALSE = Set.of("", "0", "false", "no", "off");

    @ObjectClassDefinition(name = "Postern plugin: relay",
            description = "Relay clients come from the config items relayclients and morerelayclients; norelayclients overrides both")
    public @interface Config {
        @AttributeDefinition(description = "1: refuse at RCPT every client that may not relay (relay only); 0: only note the relay clients")
        String only() default "0";
    }

    private final boolean relayOnly;

    @Activate
    public Relay(Config config) {
        this.relayOnly = !FALSE.contains(config.only().strip().toLowerCase(Locale.ROOT));
    }

    @Override
    public HookResult onConnect(HookContext ctx) {
        InetAddress client = ctx.session().remoteAddress().getAddress();
        String ip = client.getHostAddress();
        Optional<ClientNetwork> excluded = firstMatch(ctx, "norelayclients", client);
        if (excluded.isPresent()) {
            ctx.session().notes().put(SharedNotes.RELAY_CLIENT, false);
            ctx.log(LogLevel.INFO, "fail, disabled by norelayclients (" + ip + " in " + excluded.get().entry() + ")");
            return HookResult.declined();
        }
        if (client instanceof Inet6Address && client.isLoopbackAddress()) {
            return relayClient(ctx, "pass, octet matched localhost (" + ip + ")");
        }
        for (String item : List.of("relayclients", "morerelayclients")) {
            Optional<ClientNetwork> match = firstMatch(ctx, item, client);
            if (match.isPresent()) {
                return relayClient(ctx, "pass, " + ip + " in " + item + " (" + match.get().entry() + ")");
            }
        }
        ctx.log(LogLevel.INFO, "skip, no match");
        return HookResult.declined();
    }

    /** qpsmtpd's relay_only: with {@code only}, the relay clients' recipients are accepted here, all others refused. */
    @Override
    public HookResult onRcpt(RcptContext ctx) {
        if (!relayOnly) {
            return HookResult.declined();
        }
        Session session = ctx.session();
        if (session.authenticatedUser().isPresent() || session.notes().get(SharedNotes.RELAY_CLIENT).orElse(false)) {
            ctx.log(LogLevel.INFO, "pass, relay client");
            return HookResult.ok();
        }
        ctx.log(LogLevel.INFO, "fail, relay only");
        return HookResult.deny();
    }

    private static HookResult relayClient(HookContext ctx, String why) {
        ctx.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        ctx.log(LogLevel.INFO, why);
        return HookResult.declined();
    }

    private static Optional<ClientNetwork> firstMatch(HookContext ctx, String item, InetAddress client) {
        for (String value : ctx.config(item)) {
            String entry = value.strip();
            if (entry.isEmpty()) {
                continue;
            }
            Optional<ClientNetwork> network = ClientNetwork.parse(entry);
            if (network.isEmpty()) {
                ctx.log(LogLevel.WARN, "config item " + item + ": '" + entry
                        + "' is neither an address, a partial address ending in . or : nor a net/mask; ignored");
            } else if (network.get().contains(client)) {
                return network;
            }
        }
        return Optional.empty();
    }
}
