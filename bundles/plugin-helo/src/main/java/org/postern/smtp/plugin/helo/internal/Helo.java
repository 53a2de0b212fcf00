package org.postern.smtp.plugin.helo.internal;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Stream;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.EhloHook;
import org.postern.smtp.api.HeloContext;
import org.postern.smtp.api.HeloHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.dns.DnsFailure;
import org.postern.smtp.api.dns.Resolver;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code helo}: validates the HELO/EHLO host name with the tests its {@code policy} selects, the first
 * failing test deciding the reply, and adds an X-HELO header to each message. The DNS tests ({@code rfc},
 * {@code strict}) go through the server's resolver and the hook answers when the lookups are back.
 */
@Component(service = {HeloHook.class, EhloHook.class, DataPostHook.class}, configurationPid = Helo.PID)
@Designate(ocd = Helo.Config.class)
@PosternPlugin("helo")
@PosternHook({"helo", "ehlo", "data_post"})
@HookOrder(200)
public final class Helo implements HeloHook, EhloHook, DataPostHook {
    static final String PID = "org.postern.smtp.plugin.helo";

    /** Connection note: an A or AAAA record of the HELO name is the client's address, or in its /24. */
    public static final NoteKey<Boolean> HELO_FORWARD_MATCH = NoteKey.of("helo_forward_match", Boolean.class);
    /** Connection note: a PTR name of the client is the HELO name, or shares its last two labels. */
    public static final NoteKey<Boolean> HELO_REVERSE_MATCH = NoteKey.of("helo_reverse_match", Boolean.class);

    private static final int DEFAULT_TIMEOUT_SECONDS = 5;
    private static final String IPV4 = "(\\d{1,3}\\.){3}\\d{1,3}";
    private static final Pattern PLAIN_IP = Pattern.compile(IPV4);
    private static final Pattern ADDRESS_LITERAL = Pattern.compile("\\[" + IPV4 + "\\]");
    private static final Pattern FQDN_CHARACTERS = Pattern.compile("[a-zA-Z0-9.-]+");
    /** qpsmtpd takes a badhelo entry with any of these characters for a regular expression. */
    private static final Pattern REGEX_MARKER = Pattern.compile("[{}\\[\\]()^$|*+?\\\\!]");
    private static final Logger LOG = LoggerFactory.getLogger(Helo.class);

    /** Which tests run: each policy adds to the one before. */
    enum Policy {
        LENIENT, RFC, STRICT
    }

    @ObjectClassDefinition(name = "Postern plugin: helo", description = "Validates the HELO/EHLO host name (qpsmtpd's helo)")
    public @interface Config {
        @AttributeDefinition(description = "Which tests run: lenient, rfc (adds FQDN, forward and reverse DNS) or strict "
                + "(adds no address literals and matching DNS)")
        String policy() default "lenient";

        @AttributeDefinition(description = "When a test fails: 0 only logs it, 1 refuses the HELO, naughty leaves the "
                + "refusal to the naughty plugin")
        String reject() default "1";

        @AttributeDefinition(name = "reject_type", description = "How a failed HELO is refused: temp, perm, disconnect or temp_disconnect")
        String reject__type() default "disconnect";

        @AttributeDefinition(description = "Seconds each DNS lookup may take; a lookup without an answer fails no test")
        int timeout() default DEFAULT_TIMEOUT_SECONDS;
    }

    /** A failed test: the reply the client gets and the reason that is logged. */
    private record Failure(String reply, String detail) {
    }

    /** The answers of one or more lookups of the same kind, and the failure of one that did not answer, if any. */
    private record Lookup<T>(List<T> answers, Throwable failure) {
        Lookup<T> and(Lookup<T> other) {
            return new Lookup<>(Stream.concat(answers.stream(), other.answers.stream()).toList(),
                    failure != null ? failure : other.failure);
        }
    }

    private final Resolver resolver;
    private final Policy policy;
    private final String reject;
    private final String rejectType;
    private final int timeoutSeconds;

    @Activate
    public Helo(@Reference Resolver resolver, Config config) {
        this.resolver = resolver;
        this.policy = policy(config.policy());
        this.reject = config.reject();
        this.rejectType = config.reject__type();
        if (config.timeout() > 0) {
            this.timeoutSeconds = config.timeout();
        } else {
            LOG.error("configuration {}: key 'timeout' must be a positive number of seconds, not {}; using {}", PID,
                    config.timeout(), DEFAULT_TIMEOUT_SECONDS);
            this.timeoutSeconds = DEFAULT_TIMEOUT_SECONDS;
        }
    }

    private static Policy policy(String name) {
        try {
            return Policy.valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            LOG.error("configuration {}: key 'policy' must be lenient, rfc or strict, not '{}'; using lenient", PID, name);
            return Policy.LENIENT;
        }
    }

    @Override
    public HookResult onHelo(HeloContext ctx) {
        return check(ctx);
    }

    @Override
    public HookResult onEhlo(HeloContext ctx) {
        return check(ctx);
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        ctx.transaction().header().ifPresent(header -> ctx.session().heloHost().ifPresent(host -> {
            header.remove("X-HELO");
            header.prepend("X-HELO", host);
        }));
        return HookResult.declined();
    }

    private HookResult check(HeloContext ctx) {
        String host = ctx.host();
        if (host == null || host.isEmpty()) {
            ctx.log(LogLevel.INFO, "fail, tolerated, no helo host");
            PluginConventions.adjustKarma(ctx, -2);
            return HookResult.declined();
        }
        if (PluginConventions.isImmune(ctx)) {
            return HookResult.declined();
        }
        Optional<Failure> failure = isInBadhelo(ctx, host)
                .or(() -> invalidLocalhost(ctx, host))
                .or(() -> isForgedLiteral(ctx, host))
                .or(() -> isPlainIp(host))
                .or(() -> policy == Policy.LENIENT ? Optional.empty() : isNotFqdn(host));
        if (failure.isPresent() || policy == Policy.LENIENT) {
            return conclude(ctx, failure);
        }
        return HookResult.later(dnsTests(ctx, host).thenApply(dnsFailure -> conclude(ctx, dnsFailure)));
    }

    private HookResult conclude(HookContext ctx, Optional<Failure> failure) {
        if (failure.isEmpty()) {
            ctx.log(LogLevel.INFO, "pass");
            return HookResult.declined();
        }
        PluginConventions.adjustKarma(ctx, -1);
        return PluginConventions.reject(ctx, reject, rejectType, failure.get().reply(), failure.get().detail());
    }

    /**
     * Exact names compare case-insensitively; patterns match the lower-cased name, a leading {@code !} negating.
     * Every entry is tried: qpsmtpd stops at the first pattern, matching or not.
     */
    private static Optional<Failure> isInBadhelo(HookContext ctx, String host) {
        String name = host.toLowerCase(Locale.ROOT);
        for (String entry : ctx.config("badhelo")) {
            if (!REGEX_MARKER.matcher(entry).find()) {
                if (name.equals(entry.toLowerCase(Locale.ROOT))) {
                    return Optional.of(new Failure("I do not believe you are " + host + ".", "in badhelo"));
                }
                continue;
            }
            boolean negated = entry.startsWith("!");
            String pattern = negated ? entry.substring(1) : entry;
            try {
                if (Pattern.compile(pattern).matcher(name).find() != negated) {
                    return Optional.of(new Failure("Your HELO hostname is not allowed", "badhelo pattern match (" + pattern + ")"));
                }
            } catch (PatternSyntaxException e) {
                ctx.log(LogLevel.WARN, "badhelo entry skipped, not a regular expression: " + entry);
            }
        }
        return Optional.empty();
    }

    private static Optional<Failure> invalidLocalhost(HookContext ctx, String host) {
        if (!host.equalsIgnoreCase("localhost") || clientIp(ctx).equals("127.0.0.1")) {
            return Optional.empty();
        }
        return Optional.of(new Failure("You are not localhost", "invalid localhost"));
    }

    private static Optional<Failure> isForgedLiteral(HookContext ctx, String host) {
        if (!isAddressLiteral(host) || host.substring(1, host.length() - 1).equals(clientIp(ctx))) {
            return Optional.empty();
        }
        return Optional.of(new Failure("Forged IPs not accepted here", "forged IP literal"));
    }

    private static Optional<Failure> isPlainIp(String host) {
        return PLAIN_IP.matcher(host).matches()
                ? Optional.of(new Failure("Plain IP is invalid HELO hostname (RFC 2821)", "plain IP"))
                : Optional.empty();
    }

    private static Optional<Failure> isNotFqdn(String host) {
        if (isAddressLiteral(host)) {
            return Optional.empty();
        }
        if (host.indexOf('.') < 0) {
            return Optional.of(new Failure("HELO name is not fully qualified. Read RFC 2821", "not FQDN"));
        }
        if (!FQDN_CHARACTERS.matcher(host).matches()) {
            return Optional.of(new Failure("HELO name contains invalid FQDN characters. Read RFC 1035", "invalid FQDN chars"));
        }
        return Optional.empty();
    }

    /**
     * no_forward_dns, no_reverse_dns, and for strict is_address_literal and no_matching_dns, in qpsmtpd's order;
     * the lookups are asked at once, as the first failure in that order decides whatever answers later.
     */
    private CompletableFuture<Optional<Failure>> dnsTests(HookContext ctx, String host) {
        InetAddress client = ctx.session().remoteAddress().getAddress();
        CompletableFuture<Lookup<InetAddress>> forward = isAddressLiteral(host)
                ? CompletableFuture.completedFuture(null)
                : lookup(resolver::ipv4, host).thenCombine(lookup(resolver::ipv6, host), Lookup::and);
        CompletableFuture<Lookup<String>> reverse = lookup(resolver::ptr, client);
        return forward.thenCombine(reverse, (addresses, names) -> {
            boolean forwardMatch = addresses != null && addresses.answers().stream().anyMatch(address -> sameNetwork(address, client));
            boolean reverseMatch = names.answers().stream().anyMatch(name -> sameDomain(name, host));
            note(ctx, HELO_FORWARD_MATCH, forwardMatch);
            note(ctx, HELO_REVERSE_MATCH, reverseMatch);
            return noForwardDns(ctx, addresses)
                    .or(() -> noReverseDns(ctx, names, client))
                    .or(() -> policy == Policy.STRICT ? strictTests(ctx, host, forwardMatch, reverseMatch) : Optional.empty());
        });
    }

    private Optional<Failure> noForwardDns(HookContext ctx, Lookup<InetAddress> addresses) {
        if (addresses == null || !addresses.answers().isEmpty()) {
            return Optional.empty();
        }
        if (addresses.failure() != null) {
            ctx.log(LogLevel.ERROR, "skip, query failed (" + describe(addresses.failure()) + ")");
            return Optional.empty();
        }
        return Optional.of(new Failure("HELO hostname did not resolve", "no forward DNS"));
    }

    private Optional<Failure> noReverseDns(HookContext ctx, Lookup<String> names, InetAddress client) {
        if (!names.answers().isEmpty()) {
            return Optional.empty();
        }
        if (names.failure() != null) {
            ctx.log(LogLevel.ERROR, "skip, reverse query failed (" + describe(names.failure()) + ")");
            return Optional.empty();
        }
        return Optional.of(new Failure("no rDNS for " + client.getHostAddress(), "no rDNS"));
    }

    private static Optional<Failure> strictTests(HookContext ctx, String host, boolean forwardMatch, boolean reverseMatch) {
        if (isAddressLiteral(host)) {
            return Optional.of(new Failure("RFC 2821 allows an address literal, but we do not", "bracketed IP"));
        }
        if (forwardMatch && reverseMatch) {
            PluginConventions.adjustKarma(ctx, 1);
        }
        return forwardMatch || reverseMatch ? Optional.empty()
                : Optional.of(new Failure("That HELO hostname fails FCrDNS", "no matching DNS"));
    }

    /** The client's address or, for IPv4, its /24: servers of one pool often send under each other's names. */
    private static boolean sameNetwork(InetAddress address, InetAddress client) {
        return address.equals(client) || address instanceof Inet4Address && client instanceof Inet4Address
                && Arrays.equals(address.getAddress(), 0, 3, client.getAddress(), 0, 3);
    }

    /** The HELO name itself, or a name with the same last two labels. */
    private static boolean sameDomain(String ptrName, String host) {
        List<String> ptr = labels(ptrName);
        List<String> helo = labels(host);
        if (ptr.size() < 2) {
            return false;
        }
        return ptr.equals(helo) || helo.size() >= 2 && ptr.subList(ptr.size() - 2, ptr.size()).equals(helo.subList(helo.size() - 2, helo.size()));
    }

    private static List<String> labels(String name) {
        return Arrays.stream(name.toLowerCase(Locale.ROOT).split("\\.")).filter(label -> !label.isEmpty()).toList();
    }

    /** Set afresh at each HELO, so a second HELO does not inherit the first one's match. */
    private static void note(HookContext ctx, NoteKey<Boolean> key, boolean match) {
        if (match) {
            ctx.session().notes().put(key, true);
        } else {
            ctx.session().notes().remove(key);
        }
    }

    /** A lookup bounded by the timeout, whose failure (DNS error, timeout, a resolver throwing) is kept, not thrown. */
    private <T, R> CompletableFuture<Lookup<R>> lookup(Function<T, CompletionStage<List<R>>> query, T argument) {
        return CompletableFuture.completedFuture(argument).thenCompose(query)
                .orTimeout(timeoutSeconds, TimeUnit.SECONDS)
                .handle((answers, failure) -> new Lookup<>(answers == null ? List.of() : answers, failure));
    }

    private String describe(Throwable failure) {
        DnsFailure dns = DnsFailure.in(failure);
        if (dns != null) {
            return dns.kind() + " " + dns.getMessage();
        }
        Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
        return cause instanceof TimeoutException ? "no answer within " + timeoutSeconds + " s" : cause.toString();
    }

    private static boolean isAddressLiteral(String host) {
        return ADDRESS_LITERAL.matcher(host).matches();
    }

    private static String clientIp(HookContext ctx) {
        return ctx.session().remoteAddress().getAddress().getHostAddress();
    }
}
