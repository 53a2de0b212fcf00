package org.postern.smtp.plugin.dnsbl.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.ConnectHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.dns.DnsFailure;
import org.postern.smtp.api.dns.DnsNames;
import org.postern.smtp.api.dns.Resolver;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * qpsmtpd's {@code dnsbl}: at connect, the client's address is looked up in every zone of the config item
 * {@code dnsbl_zones} at once, through the server's resolver, and a listing refuses the client as
 * {@code reject} and {@code reject_type} say. Only answers that mean "listed" count: RFC 5782's 127.0.0.2
 * and up, or the zone's own list of answers; 127.0.0.1 and the error codes blocklists give to queries they
 * will not answer (127.255.255.x) are logged and ignored, so a blocklist that refuses to serve us never
 * refuses all mail. A DNS failure lets the client through.
 */
@Component(service = {ConnectHook.class, RcptHook.class}, configurationPid = Dnsbl.PID)
@Designate(ocd = Dnsbl.Config.class)
@PosternPlugin("dnsbl")
@PosternHook({"connect", "rcpt"})
@HookOrder(200)
public final class Dnsbl implements ConnectHook, RcptHook {
    static final String PID = "org.postern.smtp.plugin.dnsbl";
    /** qpsmtpd lets these reach a listed client's postmaster even when the listing is deferred to naughty. */
    private static final Set<String> SPECIAL_ACCOUNTS = Set.of("postmaster", "abuse", "mailer-daemon", "root");
    private static final long WARNING_INTERVAL_NANOS = 600_000_000_000L;

    @ObjectClassDefinition(name = "Postern plugin: dnsbl",
            description = "Zones come from the config item dnsbl_zones, exceptions from dnsbl_allow (qpsmtpd's config files)")
    public @interface Config {
        @AttributeDefinition(description = "1 refuses a listed client, 0 only logs, naughty defers the refusal to the naughty plugin")
        String reject() default "1";

        @AttributeDefinition(description = "perm (550), temp (450), disconnect or temp_disconnect")
        String reject__type() default "perm";
    }

    private final Resolver resolver;
    private final String reject;
    private final String rejectType;
    /** When each zone's unusable answer was last warned about: once per period, not once per client. */
    private final Map<String, Long> warned = new ConcurrentHashMap<>();

    @Activate
    public Dnsbl(Config config, @Reference Resolver resolver) {
        this.resolver = resolver;
        this.reject = config.reject();
        this.rejectType = config.reject__type();
    }

    @Override
    public HookResult onConnect(HookContext ctx) {
        InetAddress client = ctx.session().remoteAddress().getAddress();
        List<Zone> zones = Zone.parseAll(ctx.config("dnsbl_zones"), message -> ctx.log(LogLevel.ERROR, message));
        if (zones.isEmpty()) {
            ctx.log(LogLevel.DEBUG, "skip, no zones");
            return HookResult.declined();
        }
        if (PluginConventions.isImmune(ctx) || allowed(client, ctx.config("dnsbl_allow"))) {
            return HookResult.declined();
        }
        String reversed = DnsNames.reversed(client);
        List<CompletableFuture<Listing>> lookups = new ArrayList<>();
        for (Zone zone : zones) {
            lookups.add(lookUp(ctx, zone, reversed + "." + zone.name()));
        }
        return HookResult.later(CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new))
                .thenCompose(v -> lookups.stream().map(CompletableFuture::join).filter(Listing::listed).findFirst()
                        .map(listing -> replyText(listing, client).thenApply(text -> refuse(ctx, listing.zone(), text)))
                        .orElseGet(() -> {
                            ctx.log(LogLevel.INFO, "pass");
                            return CompletableFuture.completedFuture(HookResult.declined());
                        })));
    }

    /** A listed client may still write to its postmaster: with the refusal deferred, that clears it (qpsmtpd). */
    @Override
    public HookResult onRcpt(RcptContext ctx) {
        String user = ctx.recipient().user().toLowerCase(Locale.ROOT);
        if (SPECIAL_ACCOUNTS.contains(user) && ctx.session().notes().get(SharedNotes.NAUGHTY).isPresent()) {
            ctx.log(LogLevel.WARN, "skip, don't blacklist special account: " + ctx.recipient().user());
            ctx.session().notes().remove(SharedNotes.NAUGHTY);
        }
        return HookResult.declined();
    }

    private record Listing(Zone zone, String name, boolean listed) {
    }

    private CompletableFuture<Listing> lookUp(HookContext ctx, Zone zone, String name) {
        return resolver.ipv4(name).toCompletableFuture().handle((answers, error) -> {
            if (error != null) {
                DnsFailure failure = DnsFailure.in(error);
                ctx.log(LogLevel.WARN, zone.name() + " query failed, passed: " + (failure != null ? failure.getMessage() : error));
                return new Listing(zone, name, false);
            }
            boolean listed = false;
            for (InetAddress answer : answers) {
                if (zone.means(answer)) {
                    listed = true;
                } else {
                    warnOnce(ctx, zone, answer);
                }
            }
            return new Listing(zone, name, listed);
        });
    }

    /** The zone's own message, else its TXT record (as qpsmtpd's TXT zones give it), else "Blocked by <zone>". */
    private CompletableFuture<String> replyText(Listing listing, InetAddress client) {
        if (listing.zone().message() != null) {
            return CompletableFuture.completedFuture(listing.zone().message().replace("%IP%", client.getHostAddress()));
        }
        return resolver.txt(listing.name()).toCompletableFuture().handle((texts, error) ->
                error == null && !texts.isEmpty() && !texts.get(0).isBlank() ? texts.get(0) : "Blocked by " + listing.zone().name());
    }

    private HookResult refuse(HookContext ctx, Zone zone, String text) {
        PluginConventions.adjustKarma(ctx, -1);
        return PluginConventions.reject(ctx, reject, rejectType, text, zone.name());
    }

    private void warnOnce(HookContext ctx, Zone zone, InetAddress answer) {
        long now = System.nanoTime();
        Long last = warned.get(zone.name());
        if (last == null || now - last > WARNING_INTERVAL_NANOS) {
            warned.put(zone.name(), now);
            ctx.log(LogLevel.WARN, zone.name() + " answered " + answer.getHostAddress() + ", which is not a listing"
                    + (answer.getHostAddress().startsWith("127.255.255.") ? " but the list's error code (is it refusing our resolver, or are we over its quota?)" : "")
                    + "; ignored (warned once per 10 minutes)");
        }
    }

    /** qpsmtpd's dnsbl_allow: whole addresses, or prefixes ending in a dot such as {@code 172.16.33.}. */
    static boolean allowed(InetAddress client, List<String> allow) {
        String address = client.getHostAddress() + ".";
        for (String entry : allow) {
            String prefix = entry.endsWith(".") ? entry : entry + ".";
            if (address.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }
}
