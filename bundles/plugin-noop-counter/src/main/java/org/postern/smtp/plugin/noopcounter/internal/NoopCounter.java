package org.postern.smtp.plugin.noopcounter.internal;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.CommandContext;
import org.postern.smtp.api.DataHook;
import org.postern.smtp.api.EhloHook;
import org.postern.smtp.api.HeloContext;
import org.postern.smtp.api.HeloHook;
import org.postern.smtp.api.HelpHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MailContext;
import org.postern.smtp.api.MailHook;
import org.postern.smtp.api.NoopHook;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.Notes;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.ResetTransactionHook;
import org.postern.smtp.api.VrfyHook;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code noop_counter}: counts consecutive NOOPs and closes the connection at the {@code max_noop}th.
 * The commands whose hooks qpsmtpd's plugin binds (HELO, EHLO, MAIL, RCPT, DATA, RSET, VRFY, HELP) start the
 * count afresh. It runs early in each chain, so that a plugin that ends a chain (rcpt_ok's OK, help's answer)
 * does not keep the count from being reset.
 */
@Component(service = {NoopHook.class, HeloHook.class, EhloHook.class, MailHook.class, RcptHook.class, DataHook.class,
        ResetTransactionHook.class, VrfyHook.class, HelpHook.class}, configurationPid = NoopCounter.PID)
@Designate(ocd = NoopCounter.Config.class)
@PosternPlugin("noop_counter")
@PosternHook({"noop", "helo", "ehlo", "mail", "rcpt", "data", "reset_transaction", "vrfy", "help"})
@HookOrder(50)
public final class NoopCounter implements NoopHook, HeloHook, EhloHook, MailHook, RcptHook, DataHook,
        ResetTransactionHook, VrfyHook, HelpHook {
    static final String PID = "org.postern.smtp.plugin.noop_counter";
    /** Connection note: the NOOPs since the last command that resets the count. */
    static final NoteKey<Integer> CONSECUTIVE_NOOPS = NoteKey.of("noop_counter.consecutive", Integer.class);
    private static final int DEFAULT_MAX_NOOP = 3;
    private static final Logger LOG = LoggerFactory.getLogger(NoopCounter.class);

    @ObjectClassDefinition(name = "Postern plugin: noop_counter",
            description = "Disconnects a client after too many consecutive NOOPs")
    public @interface Config {
        @AttributeDefinition(description = "The consecutive NOOP that reaches this number is answered 500 and the "
                + "connection closes; at least 1")
        int max__noop() default DEFAULT_MAX_NOOP;
    }

    private final int maxNoop;

    @Activate
    public NoopCounter(Config config) {
        if (config.max__noop() < 1) {
            // qpsmtpd takes only a positive number and keeps 3 otherwise
            LOG.error("configuration {}: key 'max_noop': {} is less than 1; using {}", PID, config.max__noop(),
                    DEFAULT_MAX_NOOP);
            this.maxNoop = DEFAULT_MAX_NOOP;
        } else {
            this.maxNoop = config.max__noop();
        }
    }

    @Override
    public HookResult onNoop(CommandContext ctx) {
        Notes notes = ctx.session().notes();
        int noops = notes.get(CONSECUTIVE_NOOPS).orElse(0) + 1;
        notes.put(CONSECUTIVE_NOOPS, noops);
        if (noops < maxNoop) {
            return HookResult.declined();
        }
        ctx.log(LogLevel.INFO, "fail, " + noops + " consecutive NOOPs");
        return HookResult.denyDisconnect("Stop wasting my time, too many consecutive NOOPs");
    }

    @Override
    public HookResult onHelo(HeloContext ctx) {
        return startAfresh(ctx);
    }

    @Override
    public HookResult onEhlo(HeloContext ctx) {
        return startAfresh(ctx);
    }

    @Override
    public HookResult onMail(MailContext ctx) {
        return startAfresh(ctx);
    }

    @Override
    public HookResult onRcpt(RcptContext ctx) {
        return startAfresh(ctx);
    }

    @Override
    public HookResult onData(HookContext ctx) {
        return startAfresh(ctx);
    }

    @Override
    public HookResult onResetTransaction(HookContext ctx) {
        return startAfresh(ctx);
    }

    @Override
    public HookResult onVrfy(CommandContext ctx) {
        return startAfresh(ctx);
    }

    @Override
    public HookResult onHelp(CommandContext ctx) {
        return startAfresh(ctx);
    }

    private static HookResult startAfresh(HookContext ctx) {
        ctx.session().notes().remove(CONSECUTIVE_NOOPS);
        return HookResult.declined();
    }
}
