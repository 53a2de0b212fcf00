package org.postern.smtp.plugin.uribl.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.james.mime4j.MimeException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.dns.DnsFailure;
import org.postern.smtp.api.dns.DnsNames;
import org.postern.smtp.api.dns.Resolver;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.HookTimeout;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Looks up the URIs of each message in URI blocklists, as qpsmtpd's {@code uribl}: the message's text is streamed
 * through a MIME reader, and every name found in it is asked of every zone of the config item {@code uribl_zones}
 * through the server's resolver as soon as it turns up. The hook answers when all lists have, or {@code timeout}
 * has passed; a listing adds an X-URIBL-Match header, refuses the message, or is only logged, as its zone's action
 * says. At most {@code max_lookups} names are asked per message.
 */
@Component(service = DataPostHook.class, configurationPid = Uribl.PID)
@Designate(ocd = Uribl.Config.class)
@PosternPlugin("uribl")
@PosternHook("data_post")
@HookOrder(400)
@HookTimeout(35)
public final class Uribl implements DataPostHook {
    static final String PID = "org.postern.smtp.plugin.uribl";
    static final String HEADER = "X-URIBL-Match";
    private static final Logger LOG = LoggerFactory.getLogger(Uribl.class);
    private static final int DEFAULT_TIMEOUT = 30;
    private static final int DEFAULT_MAX_LOOKUPS = 50;

    /** Keys are qpsmtpd's option names; {@code $_$} in a method name is a dash, a double underscore an underscore. */
    @ObjectClassDefinition(name = "Postern plugin: uribl",
            description = "Looks up the URIs of each message in the URI blocklists of the config item uribl_zones")
    public @interface Config {
        @AttributeDefinition(description = "What a listing does unless its zone line says: add-header, deny, denysoft or log")
        String action() default "add-header";

        @AttributeDefinition(description = "Seconds to wait for the lists' answers; keep postern.hook.timeout above it")
        int timeout() default DEFAULT_TIMEOUT;

        @AttributeDefinition(description = "1 scans the header fields too")
        String scan$_$headers() default "0";

        @AttributeDefinition(description = "The same as scan-headers, the name qpsmtpd's code reads")
        String check$_$headers() default "0";

        @AttributeDefinition(description = "Names looked up per message at most (each in every zone); the rest of the message is not scanned")
        int max__lookups() default DEFAULT_MAX_LOOKUPS;

        @AttributeDefinition(description = "Place in the data_post chain; lower runs first")
        int postern_hook_order() default 400;

        @AttributeDefinition(description = "Seconds the core waits for this plugin before answering 451")
        int postern_hook_timeout() default 35;
    }

    /** The zones of a uribl_zones value, parsed again (and its problems logged once) when the value changes. */
    private record ParsedZones(List<String> lines, List<UriblZone> zones) {
    }

    /** One name asked of one zone: the listing address, then the listing's TXT text. */
    private record Lookup(String name, UriblZone zone, CompletableFuture<Optional<InetAddress>> listing,
            CompletableFuture<Optional<String>> text) {
        /** The listing as far as it is known now: qpsmtpd's description, with the TXT text if it came in time. */
        Optional<Match> match() {
            return listing.getNow(Optional.empty()).map(address -> new Match(zone.action(), name + " in " + zone.name() + ": "
                    + text.getNow(Optional.empty()).orElse(address.getHostAddress())));
        }
    }

    private record Match(Action action, String description) {
    }

    private final Resolver resolver;
    private final Action action;
    private final int timeoutSeconds;
    private final boolean scanHeaders;
    private final int maxLookups;
    private final AtomicReference<ParsedZones> parsedZones = new AtomicReference<>(new ParsedZones(List.of(), List.of()));

    @Activate
    public Uribl(@Reference Resolver resolver, Config config) {
        this.resolver = resolver;
        this.action = Action.named(config.action().strip()).orElseGet(() -> {
            LOG.error("configuration {}: key 'action' must be add-header, deny, denysoft or log, not '{}'; using add-header",
                    PID, config.action());
            return Action.ADD_HEADER;
        });
        this.timeoutSeconds = positive(config.timeout(), "timeout", DEFAULT_TIMEOUT);
        this.scanHeaders = PluginConventions.perlTrue(config.scan$_$headers()) || PluginConventions.perlTrue(config.check$_$headers());
        this.maxLookups = positive(config.max__lookups(), "max_lookups", DEFAULT_MAX_LOOKUPS);
    }

    private static int positive(int value, String key, int fallback) {
        if (value > 0) {
            return value;
        }
        LOG.error("configuration {}: key '{}' must be positive, not {}; using {}", PID, key, value, fallback);
        return fallback;
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        if (PluginConventions.isImmune(ctx)) {
            return HookResult.declined();
        }
        List<UriblZone> zones = zones(ctx.config("uribl_zones"));
        if (zones.isEmpty()) {
            ctx.log(LogLevel.INFO, "skip, no zones in uribl_zones");
            return HookResult.declined();
        }
        long started = System.nanoTime();
        Set<String> whitelist = ctx.config("uribl_whitelist_domains").stream()
                .map(domain -> domain.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        List<Lookup> lookups = new ArrayList<>();
        UriNames names = new UriNames(whitelist, maxLookups, name -> zones.forEach(zone -> lookups.add(lookup(ctx, name, zone))));
        try (InputStream message = ctx.transaction().message()) {
            MessageText.forEachLine(message, scanHeaders, names::scan);
            names.finish();
        } catch (IOException | MimeException e) {
            ctx.log(LogLevel.WARN, "message read in part only, its URIs so far are checked: " + e.getMessage());
        }
        if (names.full()) {
            ctx.log(LogLevel.INFO, "max_lookups reached: " + maxLookups + " names asked, the rest of the message was not scanned");
        }
        if (lookups.isEmpty()) {
            ctx.log(LogLevel.INFO, "pass, No URIs found in mail");
            return HookResult.declined();
        }
        List<Lookup> asked = List.copyOf(lookups);
        long left = TimeUnit.SECONDS.toNanos(timeoutSeconds) - (System.nanoTime() - started);
        return HookResult.later(CompletableFuture.allOf(asked.stream().map(Lookup::text).toArray(CompletableFuture[]::new))
                .completeOnTimeout(null, Math.max(0, left), TimeUnit.NANOSECONDS)
                .thenApply(answeredOrTimedOut -> verdict(ctx, asked, started)));
    }

    private List<UriblZone> zones(List<String> lines) {
        ParsedZones parsed = parsedZones.get();
        if (!parsed.lines().equals(lines)) {
            parsed = new ParsedZones(List.copyOf(lines), UriblZone.parseAll(lines, action,
                    problem -> LOG.error("configuration {}: config item 'uribl_zones': {}", PID, problem)));
            parsedZones.set(parsed);
        }
        return parsed.zones();
    }

    private Lookup lookup(HookContext ctx, String name, UriblZone zone) {
        String query = name + "." + zone.name();
        CompletableFuture<Optional<InetAddress>> listing = resolver.ipv4(query).toCompletableFuture()
                .thenApply(answers -> listingAddress(ctx, query, zone, answers))
                .exceptionally(error -> {
                    ctx.log(LogLevel.ERROR, "query failed, counted as not listed: " + why(error));
                    return Optional.empty();
                });
        CompletableFuture<Optional<String>> text = listing.thenCompose(address -> address.isEmpty()
                ? CompletableFuture.completedFuture(Optional.<String>empty())
                : resolver.txt(query).handle((texts, error) -> {
                    if (error != null) {
                        ctx.log(LogLevel.WARN, "TXT query failed, the listing's address stands for its text: " + why(error));
                        return Optional.<String>empty();
                    }
                    return texts.stream().filter(record -> !record.isBlank()).findFirst();
                }));
        return new Lookup(name, zone, listing, text);
    }

    private static Optional<InetAddress> listingAddress(HookContext ctx, String query, UriblZone zone, List<InetAddress> answers) {
        Optional<InetAddress> listing = answers.stream().filter(zone::lists).findFirst();
        if (!answers.isEmpty() && answers.stream().noneMatch(DnsNames::isListing)) {
            ctx.log(LogLevel.WARN, query + " answered " + answers.stream().map(InetAddress::getHostAddress).toList()
                    + ", which is no listing: the list refused the query, or the resolver rewrites missing names");
        }
        return listing;
    }

    /** Applies every listing's action: headers for all add-header ones, then the first deny, else the first denysoft. */
    private HookResult verdict(HookContext ctx, List<Lookup> lookups, long started) {
        long finished = lookups.stream().filter(lookup -> lookup.text().isDone()).count();
        List<Match> matches = lookups.stream().flatMap(lookup -> lookup.match().stream()).toList();
        ctx.log(LogLevel.INFO, String.format(Locale.ROOT, "%d lookup%s finished in %.2f sec (%d match%s)", finished,
                finished == 1 ? "" : "s", (System.nanoTime() - started) / 1e9, matches.size(), matches.size() == 1 ? "" : "es"));
        if (finished < lookups.size()) {
            ctx.log(LogLevel.WARN, (lookups.size() - finished) + " lookups unanswered after " + timeoutSeconds
                    + " s (timeout), counted as not listed");
        }
        HookResult result = HookResult.declined();
        for (Match match : matches) {
            ctx.log(LogLevel.WARN, match.description());
            switch (match.action()) {
                case ADD_HEADER -> ctx.transaction().header().ifPresent(header -> header.prepend(HEADER, match.description()));
                case DENY -> result = result.code() == ReturnCode.DENY ? result : HookResult.deny(match.description());
                case DENYSOFT -> result = result.code() == ReturnCode.DECLINED ? HookResult.denySoft(match.description()) : result;
                case LOG -> {
                    // logged above, as for every listing
                }
            }
        }
        return result;
    }

    /** A DnsFailure's message names the query and what went wrong; anything else is shown whole. */
    private static String why(Throwable error) {
        DnsFailure failure = DnsFailure.in(error);
        return failure != null ? failure.getMessage() : error.toString();
    }
}
