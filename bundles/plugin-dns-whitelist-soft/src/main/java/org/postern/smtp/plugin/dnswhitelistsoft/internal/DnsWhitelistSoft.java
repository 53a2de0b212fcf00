package org.postern.smtp.plugin.dnswhitelistsoft.internal;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
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
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.dns.DnsFailure;
import org.postern.smtp.api.dns.DnsNames;
import org.postern.smtp.api.dns.Resolver;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Whitelists a client whose IP address is listed in a DNS whitelist, as qpsmtpd's {@code dns_whitelist_soft}: it
 * sets the session note {@code whitelisthost}, which makes the plugins that honour immunity
 * ({@code PluginConventions.isImmune}) leave the client alone. Every zone of the config item
 * {@code whitelist_zones} is asked at once before the greeting, and the first listing answers, so every later
 * hook, connect included, sees the note. A zone the DNS cannot answer is logged and whitelists nobody.
 */
@Component(service = ConnectHook.class, configurationPid = DnsWhitelistSoft.PID)
@Designate(ocd = DnsWhitelistSoft.Config.class)
@PosternPlugin("dns_whitelist_soft")
@PosternHook("connect")
@HookOrder(100)
public final class DnsWhitelistSoft implements ConnectHook {
    static final String PID = "org.postern.smtp.plugin.dns_whitelist_soft";

    /** qpsmtpd's plugin takes no options: its zones are a config item, only its place in the chain is its own. */
    @ObjectClassDefinition(name = "Postern plugin: dns_whitelist_soft",
            description = "Whitelists clients listed in the zones of the config item whitelist_zones (the whitelisthost note)")
    public @interface Config {
        @AttributeDefinition(description = "Place in the connect chain; lower runs first. Put it before the plugins it should override")
        int postern_hook_order() default 100;
    }

    private final Resolver resolver;

    @Activate
    public DnsWhitelistSoft(@Reference Resolver resolver) {
        this.resolver = resolver;
    }

    @Override
    public HookResult onConnect(HookContext ctx) {
        if (ctx.session().notes().get(SharedNotes.WHITELIST_HOST).orElse(false)) {
            return HookResult.declined();
        }
        // as in qpsmtpd, a line may go on after the zone; only its first word counts
        List<String> zones = ctx.config("whitelist_zones").stream().filter(line -> !line.isBlank())
                .map(line -> line.strip().split("\\s+", 2)[0].toLowerCase(Locale.ROOT)).distinct().toList();
        if (zones.isEmpty()) {
            return HookResult.declined();
        }
        String reversed = DnsNames.reversed(ctx.session().remoteAddress().getAddress());
        CompletableFuture<HookResult> verdict = new CompletableFuture<>();
        CompletableFuture<?>[] lookups = zones.stream().map(zone -> {
            String name = reversed + "." + zone;
            return resolver.ipv4(name).toCompletableFuture().thenAccept(answers -> {
                if (answers.stream().anyMatch(DnsWhitelistSoft::isListing)) {
                    whitelist(ctx, zone, verdict);
                } else if (!answers.isEmpty()) {
                    ctx.log(LogLevel.WARN, name + " answered " + answers.stream().map(InetAddress::getHostAddress).toList()
                            + ", which is no listing (an error code of the list?); not whitelisted");
                }
            }).exceptionally(error -> {
                DnsFailure failure = DnsFailure.in(error);
                ctx.log(LogLevel.ERROR, zone + " query failed: " + (failure != null ? failure.getMessage() : error));
                return null;
            });
        }).toArray(CompletableFuture[]::new);
        CompletableFuture.allOf(lookups).thenRun(() -> verdict.complete(HookResult.declined()));
        return HookResult.later(verdict);
    }

    private static void whitelist(HookContext ctx, String zone, CompletableFuture<HookResult> verdict) {
        // the note first: the connect chain goes on as soon as the verdict completes
        ctx.session().notes().put(SharedNotes.WHITELIST_HOST, true);
        if (verdict.complete(HookResult.declined())) {
            ctx.log(LogLevel.NOTICE, "Host " + ctx.session().remoteAddress().getAddress().getHostAddress()
                    + " is whitelisted: listed in " + zone);
        }
    }

    /**
     * An RFC 5782 listing, but not 127.0.0.255, dnswl.org's "query refused": a refusal taken for a listing
     * would whitelist every client.
     */
    static boolean isListing(InetAddress answer) {
        return DnsNames.isListing(answer) && !answer.getHostAddress().equals("127.0.0.255");
    }
}
