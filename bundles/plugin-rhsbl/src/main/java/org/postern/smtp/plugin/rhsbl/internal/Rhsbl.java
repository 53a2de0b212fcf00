package org.postern.smtp.plugin.rhsbl.internal;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MailContext;
import org.postern.smtp.api.MailHook;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.dns.DnsFailure;
import org.postern.smtp.api.dns.DnsNames;
import org.postern.smtp.api.dns.Resolver;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Refuses a sender whose domain is listed in a right-hand-side blocklist, as qpsmtpd's {@code rhsbl}: at MAIL
 * FROM the sender's domain is looked up in every zone of the config item {@code rhsbl_zones} at once, through the
 * server's resolver, and the hook answers when all zones have. A zone line may carry the reply text; without one
 * the zone's TXT record gives it. A zone the DNS cannot answer is logged and skipped.
 */
@Component(service = MailHook.class, configurationPid = Rhsbl.PID)
@Designate(ocd = Rhsbl.Config.class)
@PosternPlugin("rhsbl")
@PosternHook("mail")
@HookOrder(200)
public final class Rhsbl implements MailHook {
    static final String PID = "org.postern.smtp.plugin.rhsbl";

    /** Keys are qpsmtpd's option names: a double underscore in a method name is an underscore in the key. */
    @ObjectClassDefinition(name = "Postern plugin: rhsbl",
            description = "Refuses senders whose domain is listed in the zones of the config item rhsbl_zones")
    public @interface Config {
        @AttributeDefinition(description = "1 refuses a listed sender, 0 only logs it, naughty leaves the refusal to the naughty plugin")
        String reject() default "1";

        @AttributeDefinition(description = "How a listed sender is refused: perm, temp, disconnect or temp_disconnect")
        String reject__type() default "perm";

        @AttributeDefinition(description = "Place in the mail chain; lower runs first")
        int postern_hook_order() default 200;
    }

    /** A line of rhsbl_zones: the zone, then optionally the reply text, for zones without TXT records. */
    private record Zone(String name, Optional<String> reason) {
        static Zone parse(String line) {
            String[] fields = line.strip().split("\\s+", 2);
            return new Zone(fields[0].toLowerCase(Locale.ROOT), fields.length > 1 ? Optional.of(fields[1]) : Optional.empty());
        }
    }

    private record Listing(String zone, String reason) {
    }

    private final Resolver resolver;
    private final String reject;
    private final String rejectType;

    @Activate
    public Rhsbl(@Reference Resolver resolver, Config config) {
        this.resolver = resolver;
        this.reject = config.reject();
        this.rejectType = config.reject__type();
    }

    @Override
    public HookResult onMail(MailContext ctx) {
        if (PluginConventions.isImmune(ctx)) {
            return HookResult.declined();
        }
        if (ctx.sender().isNullSender()) {
            ctx.log(LogLevel.INFO, "pass, null sender");
            return HookResult.declined();
        }
        List<Zone> zones = ctx.config("rhsbl_zones").stream().filter(line -> !line.isBlank()).map(Zone::parse).toList();
        if (zones.isEmpty()) {
            ctx.log(LogLevel.INFO, "pass, no zones");
            return HookResult.declined();
        }
        // <postmaster> and address literals have no domain a list could name
        String domain = ctx.sender().normalizedHost().filter(host -> !host.startsWith("[")).orElse("");
        if (domain.isEmpty()) {
            ctx.log(LogLevel.INFO, "pass, no domain");
            return HookResult.declined();
        }
        List<CompletableFuture<Optional<Listing>>> lookups = zones.stream().map(zone -> listing(ctx, domain, zone)).toList();
        CompletableFuture<HookResult> verdict = CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new))
                .thenApply(allAnswered -> lookups.stream().map(CompletableFuture::join).flatMap(Optional::stream).findFirst()
                        .map(listing -> PluginConventions.reject(ctx, reject, rejectType,
                                "Mail from " + domain + " rejected because it " + listing.reason(),
                                domain + " is listed in " + listing.zone()))
                        .orElseGet(() -> {
                            ctx.log(LogLevel.INFO, "pass");
                            return HookResult.declined();
                        }));
        return HookResult.later(verdict);
    }

    /** The zone's listing of the domain; empty when it has none, or the DNS could not say. */
    private CompletableFuture<Optional<Listing>> listing(MailContext ctx, String domain, Zone zone) {
        String name = domain + "." + zone.name();
        return resolver.ipv4(name).toCompletableFuture()
                .thenCompose(answers -> listed(ctx, name, answers)
                        ? reason(ctx, name, zone).thenApply(reason -> Optional.of(new Listing(zone.name(), reason)))
                        : CompletableFuture.completedFuture(Optional.<Listing>empty()))
                .exceptionally(error -> {
                    ctx.log(LogLevel.CRIT, "query failed: " + why(error));
                    return Optional.empty();
                });
    }

    /** The reply text: the zone line's own, else the zone's TXT record, else a plain statement of the listing. */
    private CompletionStage<String> reason(MailContext ctx, String name, Zone zone) {
        if (zone.reason().isPresent()) {
            return CompletableFuture.completedFuture(zone.reason().get());
        }
        String plain = "is listed in " + zone.name();
        return resolver.txt(name).handle((texts, error) -> {
            if (error != null) {
                ctx.log(LogLevel.WARN, "TXT query failed, the reply says " + plain + ": " + why(error));
                return plain;
            }
            return texts.isEmpty() || texts.get(0).isBlank() ? plain : texts.get(0);
        });
    }

    private static boolean listed(MailContext ctx, String name, List<InetAddress> answers) {
        if (answers.stream().anyMatch(DnsNames::isListing)) {
            return true;
        }
        if (!answers.isEmpty()) {
            ctx.log(LogLevel.WARN, name + " answered " + answers.stream().map(InetAddress::getHostAddress).toList()
                    + ", which is no listing: the list refused the query, or the resolver rewrites missing names");
        }
        return false;
    }

    /** A DnsFailure's message names the query and what went wrong; anything else is shown whole. */
    private static String why(Throwable error) {
        DnsFailure failure = DnsFailure.in(error);
        return failure != null ? failure.getMessage() : error.toString();
    }
}
