package org.postern.smtp.plugin.karma.internal;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.ConnectHook;
import org.postern.smtp.api.DataHook;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.DisconnectHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MailContext;
import org.postern.smtp.api.MailHook;
import org.postern.smtp.api.MailParseHook;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.Notes;
import org.postern.smtp.api.ParseContext;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.PreConnectionContext;
import org.postern.smtp.api.PreConnectionHook;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.RcptParseHook;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.postern.smtp.api.store.StateStore;
import org.postern.smtp.plugin.karma.internal.ClientHistory.Field;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code karma}: remembers, per client address, how many of its sessions ended naughty (session karma
 * below -2) or nice (above 2), and sends a client whose naughty sessions outweigh its nice ones to the penalty box
 * for {@code penalty_days}, refusing it at connect by its {@code reject} option. The history goes into the
 * connection note {@code karma_history} for the plugins that relax their limits for known good clients; an unknown or
 * bad client gets one recipient per message. The history lives in the {@link StateStore} service; a store that
 * fails lets the client pass.
 */
@Component(service = {PreConnectionHook.class, ConnectHook.class, MailParseHook.class, MailHook.class,
        RcptParseHook.class, RcptHook.class, DataHook.class, DataPostHook.class, DisconnectHook.class},
        configurationPid = Karma.PID)
@Designate(ocd = Karma.Config.class)
@PosternPlugin("karma")
@PosternHook({"pre_connection", "connect", "mail_parse", "mail", "rcpt_parse", "rcpt", "data", "data_post", "disconnect"})
@HookOrder(90)
public final class Karma implements PreConnectionHook, ConnectHook, MailParseHook, MailHook, RcptParseHook, RcptHook,
        DataHook, DataPostHook, DisconnectHook {
    static final String PID = "org.postern.smtp.plugin.karma";
    /** Connection: the client's history as read at pre_connection, for connect to judge without a second read. */
    static final NoteKey<ClientHistory> HISTORY = NoteKey.of("karma.client_history", ClientHistory.class);
    private static final long SECONDS_PER_DAY = 86_400;
    private static final int DEFAULT_NEGATIVE = 1;
    private static final double DEFAULT_PENALTY_DAYS = 1;
    /** qpsmtpd's scores for sender domains under top-level domains that send much spam. */
    private static final Map<String, Integer> SPAMMY_TLDS = Map.ofEntries(Map.entry("info", 4), Map.entry("pw", 4),
            Map.entry("tw", 3), Map.entry("biz", 3), Map.entry("cl", 2), Map.entry("br", 2), Map.entry("fr", 2),
            Map.entry("be", 2), Map.entry("jp", 2), Map.entry("no", 2), Map.entry("se", 2), Map.entry("sg", 2));
    private static final List<String> STORE_OPTIONS = List.of("db_dir", "nfslock");
    private static final Logger LOG = LoggerFactory.getLogger(Karma.class);

    @ObjectClassDefinition(name = "Postern plugin: karma",
            description = "Remembers naughty and nice sessions per client address and refuses naughty clients for a while")
    public @interface Config {
        @AttributeDefinition(description = "How far below zero a client's history (nice less naughty sessions) may "
                + "go before a naughty session sends it to the penalty box; at least 1")
        int negative() default DEFAULT_NEGATIVE;

        @AttributeDefinition(description = "Days a client stays in the penalty box; a fraction is a part of a day; "
                + "more than 0")
        double penalty__days() default DEFAULT_PENALTY_DAYS;

        @AttributeDefinition(description = "0: never refuse; naughty: leave the refusal to the naughty plugin; "
                + "1 or connect: refuse at connect")
        String reject() default "naughty";

        @AttributeDefinition(description = "How to refuse: temp, perm, disconnect or temp_disconnect")
        String reject__type() default "disconnect";
    }

    private final StateStore store;
    private final Clock clock;
    private final int negative;
    private final double penaltyDays;
    private final String reject;
    private final String rejectType;

    @Activate
    public Karma(Config config, Map<String, Object> properties, @Reference StateStore store) {
        this(config, properties, store, Clock.systemUTC());
    }

    Karma(Config config, Map<String, Object> properties, StateStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
        if (config.negative() < 1) {
            LOG.error("configuration {}: key 'negative': {} is less than 1; using {}", PID, config.negative(),
                    DEFAULT_NEGATIVE);
            this.negative = DEFAULT_NEGATIVE;
        } else {
            this.negative = config.negative();
        }
        if (!(config.penalty__days() > 0)) {
            LOG.error("configuration {}: key 'penalty_days': {} is not more than 0; using {}", PID,
                    config.penalty__days(), DEFAULT_PENALTY_DAYS);
            this.penaltyDays = DEFAULT_PENALTY_DAYS;
        } else {
            this.penaltyDays = config.penalty__days();
        }
        this.reject = config.reject();
        this.rejectType = config.reject__type();
        STORE_OPTIONS.stream().filter(properties::containsKey).forEach(option -> LOG.warn(
                "configuration {}: key '{}' is not supported (the history is kept by the StateStore service); ignored",
                PID, option));
    }

    @Override
    public HookResult onPreConnection(PreConnectionContext ctx) {
        ctx.session().notes().put(SharedNotes.KARMA_HISTORY, 0);
        return HookResult.later(ClientHistory.read(store, ip(ctx)).handle((history, failure) -> {
            if (failure != null) {
                return storeFailed(ctx, failure);
            }
            if (history.isEmpty()) {
                ctx.log(LogLevel.DEBUG, "pass, no record");
                return HookResult.declined();
            }
            ctx.session().notes().put(HISTORY, history);
            ctx.session().notes().put(SharedNotes.KARMA_HISTORY, Math.toIntExact(history.karma()));
            return HookResult.declined();
        }));
    }

    @Override
    public HookResult onConnect(HookContext ctx) {
        Notes notes = ctx.session().notes();
        // qpsmtpd sets the session's karma to 0 here; a plugin ordered before this one may have adjusted it already
        if (notes.get(SharedNotes.KARMA).isEmpty()) {
            notes.put(SharedNotes.KARMA, 0);
        }
        if (PluginConventions.isImmune(ctx)) {
            return HookResult.declined();
        }
        ClientHistory history = notes.get(HISTORY).orElse(null);
        if (history == null) {
            ctx.log(LogLevel.INFO, "pass, no record");
            return HookResult.declined();
        }
        if (history.karma() > 10) {
            PluginConventions.adjustKarma(ctx, 1);
        }
        if (history.penaltyStart() == 0) {
            ctx.log(LogLevel.INFO, "pass, no penalty (" + history.summary() + ")");
            return HookResult.declined();
        }
        double daysOld = (clock.instant().getEpochSecond() - history.penaltyStart()) / (double) SECONDS_PER_DAY;
        if (daysOld >= penaltyDays) {
            ctx.log(LogLevel.INFO, "pass, penalty expired (" + history.summary() + ")");
            return HookResult.declined();
        }
        String reply = String.format(Locale.ROOT, "You were naughty. You cannot connect for %.2f more days.",
                penaltyDays - daysOld);
        return HookResult.later(ClientHistory.count(store, ip(ctx), Field.CONNECTS).handle((connects, failure) -> {
            if (failure != null) {
                storeFailed(ctx, failure);
            }
            return PluginConventions.reject(ctx, reject, rejectType, reply, Long.toString(history.karma()));
        }));
    }

    @Override
    public HookResult onMailParse(ParseContext ctx) {
        penalizeIllegalEnvelopeFormat(ctx);
        return HookResult.declined();
    }

    @Override
    public HookResult onRcptParse(ParseContext ctx) {
        penalizeIllegalEnvelopeFormat(ctx);
        return HookResult.declined();
    }

    /** RFC 5321 has no space between {@code FROM:} or {@code TO:} and the path; spamware often puts one. */
    private static void penalizeIllegalEnvelopeFormat(ParseContext ctx) {
        String start = ctx.line().toUpperCase(Locale.ROOT);
        if (!start.startsWith("FROM:<") && !start.startsWith("TO:<")) {
            ctx.log(LogLevel.INFO, "illegal envelope address format: " + ctx.line());
            PluginConventions.adjustKarma(ctx, -2);
        }
    }

    @Override
    public HookResult onMail(MailContext ctx) {
        String host = ctx.sender().host().orElse("").toLowerCase(Locale.ROOT);
        SPAMMY_TLDS.forEach((tld, score) -> {
            if (host.endsWith("." + tld)) {
                ctx.log(LogLevel.INFO, "penalizing ." + tld + " envelope sender");
                PluginConventions.adjustKarma(ctx, -score);
            }
        });
        return HookResult.declined();
    }

    @Override
    public HookResult onRcpt(RcptContext ctx) {
        if (PluginConventions.isImmune(ctx)) {
            return HookResult.declined();
        }
        int recipients = ctx.transaction().recipients().size();
        if (recipients == 0) {
            ctx.log(LogLevel.DEBUG, "info, no recipient count");
            return HookResult.declined();
        }
        ctx.log(LogLevel.INFO, "recipients t: " + recipients + " (" + ctx.recipient() + ")");
        int history = ctx.session().notes().get(SharedNotes.KARMA_HISTORY).orElse(0);
        if (history > 0) {
            ctx.log(LogLevel.INFO, "info, good history");
            return HookResult.declined();
        }
        int karma = ctx.session().notes().get(SharedNotes.KARMA).orElse(0);
        if (karma > 0) {
            ctx.log(LogLevel.INFO, "info, good connection");
            return HookResult.declined();
        }
        return HookResult.deny("too many recipients for karma " + karma + " (h: " + history + ")");
    }

    @Override
    public HookResult onData(HookContext ctx) {
        return refuseVeryBadKarma(ctx);
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        return refuseVeryBadKarma(ctx);
    }

    /** Cutting a very bad session off at DATA spares receiving its message. */
    private HookResult refuseVeryBadKarma(HookContext ctx) {
        if (PluginConventions.isImmune(ctx)) {
            return HookResult.declined();
        }
        if (ctx.session().notes().get(SharedNotes.NAUGHTY).filter(text -> !text.isBlank()).isPresent()) {
            ctx.log(LogLevel.INFO, "skip, naughty");
            return HookResult.declined();
        }
        int karma = ctx.session().notes().get(SharedNotes.KARMA).orElse(0);
        if (karma < -4) {
            return PluginConventions.reject(ctx, reject, rejectType, "very bad karma: " + karma, null);
        }
        return HookResult.declined();
    }

    @Override
    public HookResult onDisconnect(HookContext ctx) {
        int karma = ctx.session().notes().get(SharedNotes.KARMA).orElse(0);
        if (karma == 0) {
            ctx.log(LogLevel.DEBUG, "no karma");
            return HookResult.declined();
        }
        String ip = ip(ctx);
        return HookResult.later(ClientHistory.read(store, ip)
                .thenCompose(history -> record(ctx, ip, karma, history))
                .handle((done, failure) -> failure == null ? HookResult.declined() : storeFailed(ctx, failure)));
    }

    /** Counts the session as naughty (below -2), nice (above 2) or neutral, and starts a penalty when it is due. */
    private CompletionStage<Void> record(HookContext ctx, String ip, int karma, ClientHistory history) {
        List<CompletionStage<?>> writes = new ArrayList<>();
        writes.add(ClientHistory.count(store, ip, Field.CONNECTS));
        long net = history.karma();
        String outcome;
        if (karma < -2) {
            net--;
            writes.add(ClientHistory.count(store, ip, Field.NAUGHTY));
            if (net <= -negative) {
                long now = clock.instant().getEpochSecond();
                // qpsmtpd's bonus: a client that was never nice gets a day more for each naughty session past 5
                boolean bonus = history.nice() == 0 && net < -5;
                long start = bonus ? now + Math.abs(net) * SECONDS_PER_DAY : now;
                Duration untilOver = Duration.ofSeconds(start - now + (long) Math.ceil(penaltyDays * SECONDS_PER_DAY));
                writes.add(ClientHistory.penalize(store, ip, start, untilOver));
                outcome = "negative, sent to penalty box" + (bonus ? ", penalty box bonus!" : "");
            } else {
                outcome = "negative";
            }
        } else if (karma > 2) {
            writes.add(ClientHistory.count(store, ip, Field.NICE));
            outcome = "positive";
        } else {
            outcome = "neutral";
        }
        ctx.log(LogLevel.INFO, outcome + ", (msg: " + karma + ", his: " + net + ")");
        return CompletableFuture.allOf(writes.stream().map(CompletionStage::toCompletableFuture)
                .toArray(CompletableFuture[]::new));
    }

    private static HookResult storeFailed(HookContext ctx, Throwable failure) {
        ctx.log(LogLevel.ERROR, "skip, the state store failed: " + failure);
        return HookResult.declined();
    }

    private static String ip(HookContext ctx) {
        return ctx.session().remoteAddress().getAddress().getHostAddress();
    }
}
