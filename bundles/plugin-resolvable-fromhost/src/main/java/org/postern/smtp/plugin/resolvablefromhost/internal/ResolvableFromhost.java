package org.postern.smtp.plugin.resolvablefromhost.internal;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MailContext;
import org.postern.smtp.api.MailHook;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.Notes;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.dns.DnsFailure;
import org.postern.smtp.api.dns.MxRecord;
import org.postern.smtp.api.dns.Resolver;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Defers mail from senders whose domain could not take a bounce, as qpsmtpd's {@code resolvable_fromhost}: the
 * domain needs an MX whose host has a usable address or, without MX records, a usable address of its own (the
 * implicit MX of RFC 5321 5.1). An address is usable outside the networks of the config item
 * {@code invalid_resolvable_fromhost}. The lookups go through the server's {@link Resolver}, A and AAAA
 * together, and the hook answers {@link HookResult#later} once they are back.
 */
@Component(service = MailHook.class, configurationPid = ResolvableFromhost.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = ResolvableFromhost.Config.class)
@PosternPlugin("resolvable_fromhost")
@PosternHook("mail")
@HookOrder(400)
public final class ResolvableFromhost implements MailHook {
    static final String PID = "org.postern.smtp.plugin.resolvable_fromhost";
    /** Transaction: {@code mx}, {@code a}, {@code ip}, {@code null}, {@code whitelist}, or what failed. */
    static final NoteKey<String> RESULT = NoteKey.of("resolvable_fromhost", String.class);
    /** Transaction: the sender's domain, for plugins that no longer see the sender. */
    static final NoteKey<String> FROMHOST = NoteKey.of("resolvable_fromhost_host", String.class);
    static final String INVALID_NETWORKS_ITEM = "invalid_resolvable_fromhost";
    /** qpsmtpd's config.sample/invalid_resolvable_fromhost, in force while the item is not configured. */
    static final List<String> DEFAULT_INVALID_NETWORKS =
            List.of("127.0.0.0/8", "0.0.0.0/8", "224.0.0.0/4", "169.254.0.0/16", "10.0.0.0/8");

    @ObjectClassDefinition(name = "Postern plugin: resolvable_fromhost",
            description = "Defers senders whose domain has no usable MX or address in the DNS")
    public @interface Config {
        @AttributeDefinition(description = "1: refuse; 0: only log and note it; naughty: leave the refusal to the naughty plugin")
        String reject() default "1";

        // Two underscores make the key qpsmtpd's reject_type; one would make it reject.type.
        @AttributeDefinition(name = "reject_type",
                description = "How to refuse: soft or temp (4xx), perm or hard (5xx), disconnect, temp_disconnect")
        String reject__type() default "soft";
    }

    /** The refusals: qpsmtpd's texts, with the subject and detail of the RFC 3463 code each one carries. */
    private enum Refusal {
        FQDN_REQUIRED("FQDN required in the envelope sender", ".1.8"),
        NULL_MX("Sender address has null MX", ".7.27"),
        NOT_RESOLVED("Temporary address resolution failure", ".4.3");

        private final String text;
        private final String status;

        Refusal(String text, String status) {
            this.text = text;
            this.status = status;
        }

        HookResult answer(HookContext ctx, String reject, String rejectType, String logDetail) {
            HookResult result = PluginConventions.reject(ctx, reject, rejectType, text, logDetail);
            if (!result.code().isDenial()) {
                return result;
            }
            return result.withEnhancedStatus((result.code().isPermanent() ? "5" : "4") + status);
        }
    }

    /** What the addresses of one or more hosts came to; of two findings, the one declared first wins. */
    private enum Addresses {
        USABLE, LOOKUP_FAILED, ALL_INVALID, NONE;

        Addresses or(Addresses other) {
            return compareTo(other) <= 0 ? this : other;
        }
    }

    private record Options(String reject, String rejectType) {
    }

    private record ParsedNetworks(List<String> entries, List<Network> networks) {
    }

    private final Resolver resolver;
    private volatile Options options;
    private volatile ParsedNetworks parsedNetworks = new ParsedNetworks(List.of(), List.of());

    @Activate
    public ResolvableFromhost(Config config, @Reference Resolver resolver) {
        this.resolver = resolver;
        configure(config);
    }

    @Modified
    void configure(Config config) {
        // qpsmtpd: reject_type ||= 'soft'
        options = new Options(config.reject(), config.reject__type().isBlank() ? "soft" : config.reject__type().strip());
    }

    @Override
    public HookResult onMail(MailContext ctx) {
        Notes notes = ctx.transaction().notes();
        if (PluginConventions.isImmune(ctx)) {
            notes.put(RESULT, "whitelist");
            return HookResult.declined();
        }
        if (ctx.sender().isNullSender()) {
            notes.put(RESULT, "null");
            ctx.log(LogLevel.INFO, "pass, null sender");
            return HookResult.declined();
        }
        Options current = options;
        Optional<String> fromhost = ctx.sender().host();
        if (fromhost.isEmpty()) {
            PluginConventions.adjustKarma(ctx, -1);
            return fail(ctx, current, "unparsable host", Refusal.FQDN_REQUIRED);
        }
        String host = fromhost.get();
        notes.put(FROMHOST, host);
        if (host.startsWith("[")) {
            ctx.log(LogLevel.INFO, "skip, " + host + " is an IP");
            notes.put(RESULT, "ip");
            PluginConventions.adjustKarma(ctx, -1);
            return HookResult.declined();
        }
        return HookResult.later(new Check(ctx, current, host, invalidNetworks(ctx)).run());
    }

    /** Notes what failed, lowers the karma once more (as qpsmtpd's hook_mail does) and refuses as configured. */
    private static HookResult fail(HookContext ctx, Options options, String result, Refusal refusal) {
        ctx.transaction().notes().put(RESULT, result);
        PluginConventions.adjustKarma(ctx, -1);
        return refusal.answer(ctx, options.reject(), options.rejectType(), result);
    }

    /** The networks of invalid_resolvable_fromhost, parsed again only when the item changed. */
    private List<Network> invalidNetworks(HookContext ctx) {
        List<String> configured = ctx.config(INVALID_NETWORKS_ITEM);
        List<String> entries = configured.isEmpty() ? DEFAULT_INVALID_NETWORKS : configured;
        ParsedNetworks known = parsedNetworks;
        if (!known.entries().equals(entries)) {
            known = new ParsedNetworks(entries, Network.parseAll(entries, unusable -> ctx.log(LogLevel.WARN,
                    "config item " + INVALID_NETWORKS_ITEM + ": '" + unusable + "' is not a network; ignored")));
            parsedNetworks = known;
        }
        return known.networks();
    }

    /** The lookups for one sender's domain: its MX records, then the addresses they, or the domain, lead to. */
    private final class Check {
        private final MailContext ctx;
        private final Options options;
        private final String host;
        private final List<Network> invalid;

        Check(MailContext ctx, Options options, String host, List<Network> invalid) {
            this.ctx = ctx;
            this.options = options;
            this.host = host;
            this.invalid = invalid;
        }

        CompletableFuture<HookResult> run() {
            return resolver.mx(host).toCompletableFuture().handle((records, error) -> {
                if (error != null) {
                    logFailure("MX", host, error);
                    return CompletableFuture.completedFuture(notResolved());
                }
                return byMx(records);
            }).thenCompose(answer -> answer);
        }

        private CompletableFuture<HookResult> byMx(List<MxRecord> records) {
            List<String> exchanges = records.stream().filter(mx -> !mx.isNullMx()).map(MxRecord::exchange).toList();
            if (!records.isEmpty() && exchanges.isEmpty()) {
                return CompletableFuture.completedFuture(invalidMx("null MX for " + host, Refusal.NULL_MX));
            }
            if (!exchanges.isEmpty()) {
                return firstUsable(exchanges, 0, Addresses.NONE).thenApply(found -> switch (found) {
                    case USABLE -> pass("mx");
                    case LOOKUP_FAILED -> notResolved();
                    case ALL_INVALID, NONE -> invalidMx("invalid MX for " + host, Refusal.FQDN_REQUIRED);
                });
            }
            ctx.log(LogLevel.INFO, host + " has no MX");
            PluginConventions.adjustKarma(ctx, -1);
            return addressesOf(host).thenApply(found -> switch (found) {
                case USABLE -> {
                    ctx.log(LogLevel.INFO, "pass, found A for " + host);
                    yield pass("a");
                }
                case LOOKUP_FAILED -> notResolved();
                case ALL_INVALID -> fail(ctx, options, "invalid A for " + host, Refusal.FQDN_REQUIRED);
                case NONE -> Refusal.NOT_RESOLVED.answer(ctx, options.reject(), options.rejectType(), "missing result");
            });
        }

        /** Asks the MX hosts in order of preference, as qpsmtpd does, and stops at the first with a usable address. */
        private CompletableFuture<Addresses> firstUsable(List<String> exchanges, int next, Addresses foundSoFar) {
            if (next == exchanges.size()) {
                return CompletableFuture.completedFuture(foundSoFar);
            }
            String exchange = exchanges.get(next);
            CompletableFuture<Addresses> addresses = Network.literal(exchange)
                    .map(address -> CompletableFuture.completedFuture(judge(List.of(address))))
                    .orElseGet(() -> addressesOf(exchange));
            return addresses.thenCompose(found -> {
                if (found == Addresses.USABLE) {
                    ctx.log(LogLevel.INFO, "pass, " + host + " has MX at " + exchange);
                    return CompletableFuture.completedFuture(found);
                }
                return firstUsable(exchanges, next + 1, foundSoFar.or(found));
            });
        }

        private CompletableFuture<Addresses> addressesOf(String name) {
            return judged("A", name, resolver.ipv4(name)).thenCombine(judged("AAAA", name, resolver.ipv6(name)), Addresses::or);
        }

        private CompletableFuture<Addresses> judged(String type, String name, CompletionStage<List<InetAddress>> lookup) {
            return lookup.toCompletableFuture().handle((addresses, error) -> {
                if (error != null) {
                    logFailure(type, name, error);
                    return Addresses.LOOKUP_FAILED;
                }
                return judge(addresses);
            });
        }

        private Addresses judge(List<InetAddress> addresses) {
            if (addresses.isEmpty()) {
                return Addresses.NONE;
            }
            return addresses.stream().anyMatch(address -> invalid.stream().noneMatch(network -> network.contains(address)))
                    ? Addresses.USABLE : Addresses.ALL_INVALID;
        }

        /** Logs a lookup the DNS could not answer; anything else is a bug, and fails the hook. */
        private void logFailure(String type, String name, Throwable error) {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (!(cause instanceof DnsFailure failure)) {
                throw new CompletionException(cause);
            }
            ctx.log(LogLevel.WARN, "fail, " + type + " query for " + name + ", " + failure.kind());
        }

        private HookResult pass(String result) {
            ctx.transaction().notes().put(RESULT, result);
            return HookResult.declined();
        }

        /** MX records none of which leads anywhere: qpsmtpd lowers the karma here, and again when it fails. */
        private HookResult invalidMx(String result, Refusal refusal) {
            PluginConventions.adjustKarma(ctx, -1);
            return fail(ctx, options, result, refusal);
        }

        /**
         * qpsmtpd's "missing result" after a lookup failed: the refusal is the configured one but never
         * permanent, since a DNS failure says nothing about the sender.
         */
        private HookResult notResolved() {
            boolean permanent = PluginConventions.rejectType(options.rejectType(), ReturnCode.DENY).isPermanent();
            return Refusal.NOT_RESOLVED.answer(ctx, options.reject(), permanent ? "soft" : options.rejectType(), "missing result");
        }
    }
}
