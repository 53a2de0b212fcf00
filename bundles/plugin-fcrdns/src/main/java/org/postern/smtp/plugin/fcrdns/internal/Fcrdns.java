package org.postern.smtp.plugin.fcrdns.internal;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;
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
 * Checks that the client has forward-confirmed reverse DNS, as qpsmtpd's {@code fcrdns}: a PTR name of its
 * address whose A or AAAA records lead back to the address, or to its network. The result (RFC 8601 iprev) goes
 * into the connection note {@code fcrdns}, the Authentication-Results header and the karma; the connection is
 * refused only when {@code reject} asks for it. Lookups go through the server's resolver and the hook answers
 * when they are back, so no thread waits for DNS.
 */
@Component(service = ConnectHook.class, configurationPid = Fcrdns.PID)
@Designate(ocd = Fcrdns.Config.class)
@PosternPlugin("fcrdns")
@PosternHook("connect")
@HookOrder(200)
public final class Fcrdns implements ConnectHook {
    static final String PID = "org.postern.smtp.plugin.fcrdns";

    /** Connection note: the iprev result of the check, {@code pass}, {@code fail}, {@code permerror} or {@code temperror}. */
    public static final NoteKey<String> FCRDNS = NoteKey.of("fcrdns", String.class);

    private static final String PASS = "pass";
    private static final String FAIL = "fail";
    private static final String PERMERROR = "permerror";
    private static final String TEMPERROR = "temperror";

    /** As RFC 7208 4.6.4 does for SPF: a reverse zone cannot make us look up more names than this. */
    static final int MAX_PTR_NAMES = 10;

    private static final int DEFAULT_TIMEOUT_SECONDS = 5;
    private static final Pattern HOST_NAME = Pattern.compile("[a-zA-Z0-9.-]+");
    private static final Logger LOG = LoggerFactory.getLogger(Fcrdns.class);

    @ObjectClassDefinition(name = "Postern plugin: fcrdns",
            description = "Checks that the client's reverse DNS is forward-confirmed (qpsmtpd's fcrdns)")
    public @interface Config {
        @AttributeDefinition(description = "When the check fails: 0 only notes it and lowers the karma, 1 refuses the "
                + "connection, naughty leaves the refusal to the naughty plugin")
        String reject() default "0";

        @AttributeDefinition(name = "reject_type", description = "How a failed client is refused: temp, perm, disconnect or temp_disconnect")
        String reject__type() default "temp";

        @AttributeDefinition(description = "Seconds all the lookups of one check may take together; then the result is temperror")
        int timeout() default DEFAULT_TIMEOUT_SECONDS;
    }

    /** What one check concludes: the iprev result, the karma it earns, whether {@code reject} applies, and what to log. */
    private record Verdict(String result, int karma, boolean refusable, String detail) {
        /** The client's address is its name's: a pass that earns karma. */
        static Verdict confirmed(String detail) {
            return new Verdict(PASS, 1, false, detail);
        }

        /** A failure in qpsmtpd's sense: it costs karma, and {@code reject} decides whether the client is refused. */
        static Verdict failure(String result, String detail) {
            return new Verdict(result, -1, true, detail);
        }

        /** A result that changes neither the karma nor the client's welcome. */
        static Verdict neutral(String result, String detail) {
            return new Verdict(result, 0, false, detail);
        }
    }

    /** The addresses of one PTR name, and the failure of a lookup that did not answer, if one did not. */
    private record Forward(String host, List<InetAddress> addresses, Throwable failure) {
        Forward and(Forward other) {
            return new Forward(host, Stream.concat(addresses.stream(), other.addresses.stream()).toList(),
                    failure != null ? failure : other.failure);
        }
    }

    private final Resolver resolver;
    private final String reject;
    private final String rejectType;
    private final int timeoutSeconds;

    @Activate
    public Fcrdns(@Reference Resolver resolver, Config config) {
        this.resolver = resolver;
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

    @Override
    public HookResult onConnect(HookContext ctx) {
        if (PluginConventions.isImmune(ctx)) {
            return HookResult.declined();
        }
        InetAddress client = ctx.session().remoteAddress().getAddress();
        String host = ctx.session().remoteHost();
        // the name the core already looked up allows cheap verdicts before any DNS round trip
        if (host.equalsIgnoreCase("localhost")) {
            return conclude(ctx, client, client.isLoopbackAddress() ? Verdict.confirmed("pass, is localhost")
                    : Verdict.failure(FAIL, "not localhost"));
        }
        // "[ip]" means the client has no reverse DNS, which the lookups below tell in detail
        if (!host.startsWith("[")) {
            if (host.indexOf('.') < 0) {
                return conclude(ctx, client, Verdict.failure(FAIL, "not FQDN"));
            }
            if (!HOST_NAME.matcher(host).matches()) {
                return conclude(ctx, client, Verdict.failure(FAIL, "invalid FQDN chars"));
            }
        }
        return HookResult.later(verify(client)
                .orTimeout(timeoutSeconds, TimeUnit.SECONDS)
                .exceptionally(this::unanswered)
                .thenApply(verdict -> conclude(ctx, client, verdict)));
    }

    private CompletableFuture<Verdict> verify(InetAddress client) {
        return ask(resolver::ptr, client).thenCompose(names -> {
            List<String> hosts = names.stream().map(Fcrdns::normalized).distinct().limit(MAX_PTR_NAMES).toList();
            if (hosts.isEmpty()) {
                return CompletableFuture.completedFuture(Verdict.failure(PERMERROR, "no rDNS"));
            }
            List<CompletableFuture<Forward>> forwards = hosts.stream().map(this::forward).toList();
            return CompletableFuture.allOf(forwards.toArray(CompletableFuture[]::new))
                    .thenApply(all -> confirm(client, forwards.stream().map(CompletableFuture::join).toList()));
        });
    }

    /** The A and AAAA records of a PTR name, asked at once; a lookup that fails leaves its failure, not an exception. */
    private CompletableFuture<Forward> forward(String host) {
        return addresses(resolver::ipv4, host).thenCombine(addresses(resolver::ipv6, host), Forward::and);
    }

    private CompletableFuture<Forward> addresses(Function<String, CompletionStage<List<InetAddress>>> query, String host) {
        return ask(query, host).handle((addresses, failure) -> new Forward(host, addresses == null ? List.of() : addresses, failure));
    }

    /**
     * The best that the PTR names' addresses show, whatever order the DNS gave them in. As in qpsmtpd, a name
     * whose addresses lead elsewhere is tolerated: organisations send from pools whose names and addresses
     * do not pair up exactly.
     */
    private static Verdict confirm(InetAddress client, List<Forward> forwards) {
        for (Forward forward : forwards) {
            if (forward.addresses().contains(client)) {
                return Verdict.confirmed("pass, forward ip match: " + forward.host());
            }
        }
        for (Forward forward : forwards) {
            if (forward.addresses().stream().anyMatch(address -> sameNetwork(address, client))) {
                return Verdict.neutral(PASS, "pass, forward network match: " + forward.host());
            }
        }
        for (Forward forward : forwards) {
            if (!forward.addresses().isEmpty()) {
                return Verdict.neutral(FAIL, "pass, PTR host has forward DNS but no address matches: " + forward.host());
            }
        }
        for (Forward forward : forwards) {
            if (forward.failure() != null) {
                return Verdict.neutral(TEMPERROR, "fail, error getting forward DNS: " + describe(forward.failure()));
            }
        }
        return Verdict.failure(FAIL, "no PTR hosts have forward DNS: "
                + String.join(", ", forwards.stream().map(Forward::host).toList()));
    }

    /** The same /24 for IPv4, as qpsmtpd; the same /64 for IPv6, the size of one IPv6 subnet. */
    private static boolean sameNetwork(InetAddress one, InetAddress other) {
        byte[] a = one.getAddress();
        byte[] b = other.getAddress();
        int prefix = a.length == 4 ? 3 : 8;
        return a.length == b.length && Arrays.equals(a, 0, prefix, b, 0, prefix);
    }

    private Verdict unanswered(Throwable failure) {
        return Verdict.neutral(TEMPERROR, cause(failure) instanceof TimeoutException
                ? "fail, no DNS answer within " + timeoutSeconds + " s"
                : "fail, error getting rDNS: " + describe(failure));
    }

    private HookResult conclude(HookContext ctx, InetAddress client, Verdict verdict) {
        ctx.session().notes().put(FCRDNS, verdict.result());
        PluginConventions.storeAuthResults(ctx, "iprev=" + verdict.result() + " policy.iprev=" + client.getHostAddress());
        if (verdict.karma() != 0) {
            PluginConventions.adjustKarma(ctx, verdict.karma());
        }
        if (verdict.refusable()) {
            return PluginConventions.reject(ctx, reject, rejectType,
                    "No forward-confirmed reverse DNS for " + client.getHostAddress(), verdict.detail());
        }
        ctx.log(LogLevel.INFO, verdict.detail());
        return HookResult.declined();
    }

    /** Starts a lookup so that a resolver throwing at once fails the stage instead of the hook. */
    private static <T, R> CompletableFuture<R> ask(Function<T, CompletionStage<R>> query, T argument) {
        return CompletableFuture.completedFuture(argument).thenCompose(query);
    }

    private static String normalized(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }

    private static String describe(Throwable failure) {
        return cause(failure) instanceof DnsFailure dns ? dns.kind() + " " + dns.getMessage() : cause(failure).toString();
    }

    /** The failure itself, out of the wrapper that stages built on a failed stage complete with. */
    private static Throwable cause(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }
}
