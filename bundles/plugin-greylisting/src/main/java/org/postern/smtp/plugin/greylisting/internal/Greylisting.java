package org.postern.smtp.plugin.greylisting.internal;

import java.math.BigInteger;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.DataHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MailContext;
import org.postern.smtp.api.MailHook;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.postern.smtp.api.store.StateStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code greylisting}: a triplet (client address, sender, recipient; by default the address alone) seen
 * for the first time is deferred; a retry after {@code black_timeout} and before {@code grey_timeout} is accepted
 * and whitelists the triplet for {@code white_timeout}, renewed by each delivery. The triplets live in the
 * {@link StateStore} service, so they survive a restart (and, with a networked store, are shared by the nodes
 * behind one MX). It checks at MAIL, or at RCPT when the recipient is part of the triplet. Immune clients are exempt,
 * and with the {@code p0f} and {@code geoip} options clients by their fingerprint and country, which ident/p0f and
 * ident/geoip note at connect.
 */
@Component(service = {MailHook.class, RcptHook.class, DataHook.class}, configurationPid = Greylisting.PID)
@Designate(ocd = Greylisting.Config.class)
@PosternPlugin("greylisting")
@PosternHook({"mail", "rcpt", "data"})
@HookOrder(700)
public final class Greylisting implements MailHook, RcptHook, DataHook {
    static final String PID = "org.postern.smtp.plugin.greylisting";
    static final String DENY_MESSAGE = "This mail is temporarily denied";
    /** Transaction note: the deferral kept for DATA (qpsmtpd's {@code greylist}), by deny_late or for a null sender. */
    static final NoteKey<String> DEFERRED = NoteKey.of("greylist", String.class);
    private static final int DEFAULT_BLACK_TIMEOUT = 50 * 60;
    private static final int DEFAULT_GREY_TIMEOUT = 3 * 3600 + 20 * 60;
    private static final int DEFAULT_WHITE_TIMEOUT = 36 * 24 * 3600;
    /** qpsmtpd's options that Postern has no use for, and why. */
    private static final Map<String, String> IGNORED_OPTIONS = Map.of(
            "db_dir", "the triplets are kept by the StateStore service",
            "per_recipient_db", "the triplets are kept by the StateStore service",
            "nfslock", "the triplets are kept by the StateStore service",
            "upgrade", "the triplets are kept by the StateStore service");
    private static final Logger LOG = LoggerFactory.getLogger(Greylisting.class);

    @ObjectClassDefinition(name = "Postern plugin: greylisting",
            description = "Defers the first delivery of each triplet (client address, sender, recipient)")
    public @interface Config {
        @AttributeDefinition(description = "1: the client's address is part of the triplet")
        String remote__ip() default "1";

        @AttributeDefinition(description = "1: the sender is part of the triplet")
        String sender() default "0";

        @AttributeDefinition(description = "1: the recipient is part of the triplet; the check moves to RCPT")
        String recipient() default "0";

        @AttributeDefinition(description = "1: check at RCPT rather than MAIL")
        String per__recipient() default "0";

        @AttributeDefinition(description = "1: a deferral at MAIL is given at DATA instead, unless every "
                + "recipient is whitelisted")
        String deny__late() default "0";

        @AttributeDefinition(description = "Seconds a new triplet is deferred")
        int black__timeout() default DEFAULT_BLACK_TIMEOUT;

        @AttributeDefinition(description = "Seconds after its first attempt within which a retry whitelists a "
                + "triplet; more than black_timeout")
        int grey__timeout() default DEFAULT_GREY_TIMEOUT;

        @AttributeDefinition(description = "Seconds a whitelisted triplet stays whitelisted after its last delivery")
        int white__timeout() default DEFAULT_WHITE_TIMEOUT;

        @AttributeDefinition(description = "1 defers, 0 only records and logs (to seed the triplets); empty: 1, "
                + "or as mode says")
        String reject() default "";

        @AttributeDefinition(description = "Deprecated in qpsmtpd: denysoft, or testonly/off for reject 0")
        String mode() default "";

        @AttributeDefinition(description = "Greylist only clients whose p0f fingerprint (connection note p0f, from "
                + "ident/p0f) matches one of these comma-separated key,value pairs: genre or link (case-insensitive "
                + "regular expression), distance (more hops), uptime (fewer minutes); e.g. genre,windows; empty: all")
        String p0f() default "";

        @AttributeDefinition(description = "Comma-separated country codes (connection note geoip_country, from "
                + "ident/geoip) whose clients are not greylisted, e.g. US,CA; empty: none")
        String geoip() default "";

        @AttributeDefinition(description = "When the store cannot answer: pass lets the mail through, defer "
                + "defers it as an unknown triplet")
        String store__failure() default "pass";
    }

    private final StateStore store;
    private final Clock clock;
    private final boolean remoteIp;
    private final boolean sender;
    private final boolean recipient;
    private final boolean atRcpt;
    private final boolean denyLate;
    private final boolean reject;
    private final boolean deferOnStoreFailure;
    private final Timeouts timeouts;
    private final Optional<P0fMatch> p0f;
    private final Optional<GeoipMatch> geoip;

    @Activate
    public Greylisting(Config config, Map<String, Object> properties, @Reference StateStore store) {
        this(config, properties, store, Clock.systemUTC());
    }

    Greylisting(Config config, Map<String, Object> properties, StateStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
        boolean anyPart = PluginConventions.perlTrue(config.remote__ip()) || PluginConventions.perlTrue(config.sender())
                || PluginConventions.perlTrue(config.recipient());
        if (!anyPart) {
            LOG.error("configuration {}: keys 'remote_ip', 'sender' and 'recipient' are all off; using remote_ip 1", PID);
        }
        this.remoteIp = !anyPart || PluginConventions.perlTrue(config.remote__ip());
        this.sender = PluginConventions.perlTrue(config.sender());
        this.recipient = PluginConventions.perlTrue(config.recipient());
        this.atRcpt = recipient || PluginConventions.perlTrue(config.per__recipient());
        this.denyLate = PluginConventions.perlTrue(config.deny__late());
        this.reject = config.reject().isBlank()
                ? !config.mode().toLowerCase(Locale.ROOT).matches(".*(testonly|off).*")
                : PluginConventions.perlTrue(config.reject());
        this.deferOnStoreFailure = storeFailure(config.store__failure());
        this.timeouts = Timeouts.of(config);
        this.p0f = P0fMatch.of(config.p0f());
        this.geoip = GeoipMatch.of(config.geoip());
        IGNORED_OPTIONS.forEach((option, reason) -> {
            if (properties.containsKey(option)) {
                LOG.warn("configuration {}: key '{}' is not supported ({}); ignored", PID, option, reason);
            }
        });
    }

    private static boolean storeFailure(String option) {
        switch (option.strip().toLowerCase(Locale.ROOT)) {
            case "pass":
                return false;
            case "defer":
                return true;
            default:
                LOG.error("configuration {}: key 'store_failure': '{}' is neither pass nor defer; using pass", PID, option);
                return false;
        }
    }

    /** The three periods, in seconds, with grey after black. */
    record Timeouts(long black, long grey, long white) {
        static Timeouts of(Config config) {
            long black = positive("black_timeout", config.black__timeout(), DEFAULT_BLACK_TIMEOUT);
            long grey = positive("grey_timeout", config.grey__timeout(), DEFAULT_GREY_TIMEOUT);
            long white = positive("white_timeout", config.white__timeout(), DEFAULT_WHITE_TIMEOUT);
            if (grey <= black) {
                // no retry could ever whitelist a triplet
                LOG.error("configuration {}: key 'grey_timeout': {} is not more than black_timeout {}; using {} and {}",
                        PID, grey, black, DEFAULT_BLACK_TIMEOUT, DEFAULT_GREY_TIMEOUT);
                return new Timeouts(DEFAULT_BLACK_TIMEOUT, DEFAULT_GREY_TIMEOUT, white);
            }
            return new Timeouts(black, grey, white);
        }

        private static long positive(String key, int value, int fallback) {
            if (value > 0) {
                return value;
            }
            LOG.error("configuration {}: key '{}': {} is not a positive number of seconds; using {}", PID, key, value,
                    fallback);
            return fallback;
        }
    }

    @Override
    public HookResult onMail(MailContext ctx) {
        if (atRcpt) {
            return HookResult.declined();
        }
        return HookResult.later(check(ctx, ctx.sender(), null).thenApply(deferred -> {
            if (!deferred) {
                return HookResult.declined();
            }
            if (!denyLate) {
                return HookResult.denySoft(DENY_MESSAGE);
            }
            ctx.transaction().notes().put(DEFERRED, DENY_MESSAGE);
            return HookResult.declined();
        }));
    }

    @Override
    public HookResult onRcpt(RcptContext ctx) {
        if (!atRcpt) {
            return HookResult.declined();
        }
        Address from = ctx.transaction().sender().orElse(Address.nullSender());
        return HookResult.later(check(ctx, from, ctx.recipient()).thenApply(deferred -> {
            if (!deferred) {
                return HookResult.declined();
            }
            if (!from.address().isEmpty()) {
                return HookResult.denySoft(DENY_MESSAGE);
            }
            // a bounce is deferred at DATA, so that a sender's address probe (no DATA) is not refused
            ctx.transaction().notes().put(DEFERRED, DENY_MESSAGE);
            return HookResult.declined();
        }));
    }

    @Override
    public HookResult onData(HookContext ctx) {
        Optional<String> deferred = ctx.transaction().notes().get(DEFERRED);
        if (deferred.isEmpty()) {
            return HookResult.declined();
        }
        if (ctx.transaction().notes().get(SharedNotes.WHITELIST_RCPT).orElse(0) == ctx.transaction().recipients().size()) {
            ctx.log(LogLevel.WARN, "skip: all recipients whitelisted");
            return HookResult.declined();
        }
        return HookResult.denySoft(deferred.get());
    }

    /** Whether this attempt of the triplet is to be deferred, after recording it. */
    private CompletionStage<Boolean> check(HookContext ctx, Address from, Address to) {
        if (exempt(ctx)) {
            return CompletableFuture.completedFuture(false);
        }
        String key = key(ctx, from, to);
        long now = clock.instant().getEpochSecond();
        return store.get(key)
                .thenCompose(stored -> {
                    Verdict verdict = Verdict.of(stored.flatMap(Triplet::parse), now, timeouts);
                    ctx.log(verdict.level(), verdict.log());
                    return store.put(key, verdict.record().format(), verdict.ttl()).thenApply(written -> verdict.defer());
                })
                .exceptionally(failure -> {
                    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                            ? failure.getCause() : failure;
                    ctx.log(LogLevel.ERROR, "state store failed, " + (deferOnStoreFailure ? "deferred" : "passed")
                            + ": " + cause);
                    return deferOnStoreFailure;
                })
                .thenApply(defer -> defer && reject);
    }

    /**
     * qpsmtpd's exemptions, in its order: an immune client, one the {@code p0f} option does not select, one from a
     * country of the {@code geoip} option. An exempt client's triplet is neither looked at nor recorded.
     */
    private boolean exempt(HookContext ctx) {
        return PluginConventions.isImmune(ctx) || p0f.map(match -> !match.matches(ctx)).orElse(false)
                || geoip.map(match -> match.matches(ctx)).orElse(false);
    }

    /** qpsmtpd's key: the address as a number, the sender, the recipient, as configured; namespaced. */
    private String key(HookContext ctx, Address from, Address to) {
        List<String> parts = new ArrayList<>();
        if (remoteIp) {
            parts.add(new BigInteger(1, ctx.session().remoteAddress().getAddress().getAddress()).toString());
        }
        if (sender) {
            parts.add(from.address());
        }
        if (recipient && to != null) {
            parts.add(to.address());
        }
        return "greylisting:" + String.join(":", parts);
    }
}
