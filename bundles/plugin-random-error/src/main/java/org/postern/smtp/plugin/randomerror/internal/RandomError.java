package org.postern.smtp.plugin.randomerror.internal;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.ConnectHook;
import org.postern.smtp.api.DataHook;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.EhloHook;
import org.postern.smtp.api.HeloContext;
import org.postern.smtp.api.HeloHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MailContext;
import org.postern.smtp.api.MailHook;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code random_error}, a testing aid: fails about {@code percent} per cent of messages with a temporary
 * error, spread over the six hooks a message passes (connect, HELO/EHLO, MAIL, RCPT, DATA, end of data). Each hook
 * fails with the chance that makes six of them fail a message at the configured rate; two failures in five also
 * close the connection.
 */
@Component(service = {ConnectHook.class, HeloHook.class, EhloHook.class, MailHook.class, RcptHook.class,
        DataHook.class, DataPostHook.class}, configurationPid = RandomError.PID)
@Designate(ocd = RandomError.Config.class)
@PosternPlugin("random_error")
@PosternHook({"connect", "helo", "ehlo", "mail", "rcpt", "data", "data_post"})
@HookOrder(60)
public final class RandomError implements ConnectHook, HeloHook, EhloHook, MailHook, RcptHook, DataHook, DataPostHook {
    static final String PID = "org.postern.smtp.plugin.random_error";
    /** Connection: the failure rate in per cent for this session; another plugin may change it (qpsmtpd's name). */
    public static final NoteKey<Double> RATE = NoteKey.of("random_fail_%", Double.class);
    static final String REPLY = "random failure";
    private static final double DEFAULT_PERCENT = 1;
    private static final int HOOKS_PER_MESSAGE = 6;
    private static final double DISCONNECT_SHARE = 2.0 / 5;
    private static final Logger LOG = LoggerFactory.getLogger(RandomError.class);

    @ObjectClassDefinition(name = "Postern plugin: random_error",
            description = "Fails a share of messages with temporary errors, to test clients and queues")
    public @interface Config {
        @AttributeDefinition(description = "How many messages in a hundred fail (fractions allowed); 100 fails every "
                + "connection at once, 0 or a negative number fails none")
        String percent() default "1";
    }

    private final double percent;
    private final DoubleSupplier uniform;

    @Activate
    public RandomError(Config config) {
        this(config, () -> ThreadLocalRandom.current().nextDouble());
    }

    /** With the source of uniform numbers in [0, 1) the decisions draw from. */
    RandomError(Config config, DoubleSupplier uniform) {
        this.percent = percent(config.percent());
        this.uniform = uniform;
    }

    private static double percent(String value) {
        if (value.isBlank()) {
            return DEFAULT_PERCENT;
        }
        try {
            double parsed = Double.parseDouble(value.strip());
            if (Double.isFinite(parsed)) {
                return parsed;
            }
        } catch (NumberFormatException notANumber) {
            // reported below, as an infinite value is
        }
        LOG.error("configuration {}: key 'percent': '{}' is not a number; using {}", PID, value, DEFAULT_PERCENT);
        return DEFAULT_PERCENT;
    }

    @Override
    public HookResult onConnect(HookContext ctx) {
        ctx.session().notes().put(RATE, percent);
        return maybeFail(ctx);
    }

    @Override
    public HookResult onHelo(HeloContext ctx) {
        return maybeFail(ctx);
    }

    @Override
    public HookResult onEhlo(HeloContext ctx) {
        return maybeFail(ctx);
    }

    @Override
    public HookResult onMail(MailContext ctx) {
        return maybeFail(ctx);
    }

    @Override
    public HookResult onRcpt(RcptContext ctx) {
        return maybeFail(ctx);
    }

    @Override
    public HookResult onData(HookContext ctx) {
        return maybeFail(ctx);
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        return maybeFail(ctx);
    }

    private HookResult maybeFail(HookContext ctx) {
        double rate = ctx.session().notes().get(RATE).orElse(percent);
        // (1 - x)^6 = 1 - rate: a hook passes with this chance, so that a message passes all six at 1 - rate
        double passChance = Math.pow(Math.max(0, 1 - rate / 100), 1.0 / HOOKS_PER_MESSAGE);
        ctx.log(LogLevel.INFO, "to fail, rand(1) must be more than " + passChance);
        if (uniform.getAsDouble() < passChance) {
            return HookResult.declined();
        }
        return uniform.getAsDouble() < DISCONNECT_SHARE ? HookResult.denySoftDisconnect(REPLY) : HookResult.denySoft(REPLY);
    }
}
