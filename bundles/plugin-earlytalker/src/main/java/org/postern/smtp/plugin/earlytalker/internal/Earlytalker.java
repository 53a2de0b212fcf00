package org.postern.smtp.plugin.earlytalker.internal;

import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.ConnectHook;
import org.postern.smtp.api.DataHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MailContext;
import org.postern.smtp.api.MailHook;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code earlytalker}: holds back the greeting (and, with {@code check-at DATA}, the 354) for
 * {@code wait} seconds and refuses a client that talked before it was answered, as direct-to-MX spam agents
 * that pipeline the whole conversation do. With {@code defer-reject} the client is greeted as usual and its
 * MAIL and RCPT commands are refused instead. No thread waits: the answer comes later.
 */
@Component(service = {ConnectHook.class, DataHook.class, MailHook.class, RcptHook.class}, configurationPid = Earlytalker.PID)
@Designate(ocd = Earlytalker.Config.class)
@PosternPlugin("earlytalker")
@PosternHook({"connect", "data", "mail", "rcpt"})
@HookOrder(150)
public final class Earlytalker implements ConnectHook, DataHook, MailHook, RcptHook {
    static final String PID = "org.postern.smtp.plugin.earlytalker";

    /** Connection note: the client talked before it was answered. Other plugins read it with this name and type. */
    public static final NoteKey<Boolean> EARLYTALKER = NoteKey.of("earlytalker", Boolean.class);


    static final String REPLY = "Connecting host started transmitting before SMTP greeting";
    private static final String LOG_DETAIL = "remote started talking before we said hello";
    private static final int TRUSTED_KARMA = 5;
    private static final Set<String> CHECK_POINTS = Set.of("CONNECT", "DATA");
    private static final Logger LOG = LoggerFactory.getLogger(Earlytalker.class);

    @ObjectClassDefinition(name = "Postern plugin: earlytalker",
            description = "Refuses clients that talk before the greeting (or before the 354 to DATA)")
    public @interface Config {
        @AttributeDefinition(name = "wait", description = "Seconds the greeting (with check-at DATA also the 354) is held "
                + "back to see whether the client talks first; keep it well below the clients' greeting timeouts and the "
                + "core's hook.timeout")
        double wait$() default 1;

        @AttributeDefinition(description = "1 refuses an early talker; 0 only notes it and lowers its karma; naughty "
                + "leaves the refusal to the naughty plugin")
        String reject() default "1";

        @AttributeDefinition(name = "reject_type", description = "temp, perm, disconnect or temp_disconnect; "
                + "empty: perm, or temp with defer-reject, as qpsmtpd")
        String reject__type() default "";

        @AttributeDefinition(name = "defer-reject", description = "1: greet an early talker as usual and refuse its "
                + "MAIL and RCPT commands instead")
        String defer$_$reject() default "0";

        @AttributeDefinition(name = "check-at", description = "When to check: CONNECT (before the greeting), "
                + "DATA (before the 354), or both, separated by commas")
        String[] check$_$at() default {"CONNECT"};
    }

    private final long waitMillis;
    private final String reject;
    private final String rejectType;
    private final boolean deferReject;
    private final Set<String> checkAt;

    @Activate
    public Earlytalker(Config config) {
        this.waitMillis = waitMillis(config.wait$());
        this.reject = config.reject();
        this.deferReject = PluginConventions.perlTrue(config.defer$_$reject());
        // qpsmtpd's register: a reject_type left out is perm, but temp with defer-reject
        this.rejectType = !config.reject__type().isBlank() ? config.reject__type() : deferReject ? "temp" : "perm";
        this.checkAt = checkAt(config.check$_$at());
    }

    private static long waitMillis(double seconds) {
        if (seconds >= 0) {
            return Math.round(seconds * 1000);
        }
        LOG.error("configuration {}: key 'wait' must not be negative, not {}; waiting 1 s", PID, seconds);
        return 1000;
    }

    /** qpsmtpd's check-at may be given several times; here its values are one comma-separated list. */
    private static Set<String> checkAt(String[] values) {
        Set<String> given = Arrays.stream(values).flatMap(value -> Arrays.stream(value.split("[,\\s]+")))
                .filter(value -> !value.isEmpty()).map(value -> value.toUpperCase(Locale.ROOT)).collect(Collectors.toSet());
        if (given.isEmpty()) {
            return Set.of("CONNECT");
        }
        given.stream().filter(value -> !CHECK_POINTS.contains(value)).forEach(value ->
                LOG.error("configuration {}: key 'check-at': '{}' is neither CONNECT nor DATA; ignored", PID, value));
        given.retainAll(CHECK_POINTS);
        return Set.copyOf(given);
    }

    @Override
    public HookResult onConnect(HookContext ctx) {
        if (!checkAt.contains("CONNECT") || PluginConventions.isImmune(ctx)) {
            return HookResult.declined();
        }
        int karma = ctx.session().notes().get(SharedNotes.KARMA_HISTORY).orElse(0);
        if (karma > TRUSTED_KARMA) {
            ctx.log(LogLevel.INFO, "skip, karma " + karma);
            return HookResult.declined();
        }
        return afterWait(ctx, deferReject ? this::deferRefusal : this::refuse);
    }

    @Override
    public HookResult onData(HookContext ctx) {
        if (!checkAt.contains("DATA") || PluginConventions.isImmune(ctx)) {
            return HookResult.declined();
        }
        return afterWait(ctx, this::refuse);
    }

    @Override
    public HookResult onMail(MailContext ctx) {
        return refuseIfNoted(ctx);
    }

    /** qpsmtpd hooks MAIL only; RCPT too keeps its POD's promise when an earlier plugin accepted the sender with OK. */
    @Override
    public HookResult onRcpt(RcptContext ctx) {
        return refuseIfNoted(ctx);
    }

    private HookResult refuseIfNoted(HookContext ctx) {
        return deferReject && ctx.session().notes().get(EARLYTALKER).orElse(false) ? refuse(ctx) : HookResult.declined();
    }

    /**
     * qpsmtpd's {@code can_read(wait)}: input already there is judged at once (at DATA, a message pipelined
     * before the 354); otherwise the answer comes when the wait is over, as the server goes on reading meanwhile.
     */
    private HookResult afterWait(HookContext ctx, Function<HookContext, HookResult> earlyTalker) {
        if (ctx.session().inputWaiting()) {
            return earlyTalker.apply(ctx);
        }
        CompletableFuture<Void> waited = new CompletableFuture<Void>().completeOnTimeout(null, waitMillis, TimeUnit.MILLISECONDS);
        return HookResult.later(waited.thenApply(over -> {
            if (ctx.session().inputWaiting()) {
                return earlyTalker.apply(ctx);
            }
            ctx.log(LogLevel.INFO, "pass, not spontaneous");
            return HookResult.declined();
        }));
    }

    private HookResult refuse(HookContext ctx) {
        note(ctx);
        return PluginConventions.reject(ctx, reject, rejectType, REPLY, LOG_DETAIL);
    }

    private HookResult deferRefusal(HookContext ctx) {
        note(ctx);
        ctx.log(LogLevel.INFO, "fail, refusing MAIL and RCPT later, " + LOG_DETAIL);
        return HookResult.declined();
    }

    private static void note(HookContext ctx) {
        ctx.session().notes().put(EARLYTALKER, true);
        PluginConventions.adjustKarma(ctx, -1);
    }
}
