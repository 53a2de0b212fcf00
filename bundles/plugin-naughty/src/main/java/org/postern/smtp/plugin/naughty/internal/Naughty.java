package org.postern.smtp.plugin.naughty.internal;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.ConnectHook;
import org.postern.smtp.api.DataHook;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MailContext;
import org.postern.smtp.api.MailHook;
import org.postern.smtp.api.Notes;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code naughty}: plugins with {@code reject naughty} leave their refusal in the connection note
 * {@code naughty} (see {@link PluginConventions#reject}), and this plugin gives it at the hook its {@code reject}
 * option names, so the log shows the session up to there. It refuses at {@code data_post} as well, in case an
 * earlier plugin's OK kept it from running at its own hook, as qpsmtpd's does.
 */
@Component(service = {ConnectHook.class, MailHook.class, RcptHook.class, DataHook.class, DataPostHook.class},
        configurationPid = Naughty.PID)
@Designate(ocd = Naughty.Config.class)
@PosternPlugin("naughty")
@PosternHook({"connect", "mail", "rcpt", "data", "data_post"})
@HookOrder(800)
public final class Naughty implements ConnectHook, MailHook, RcptHook, DataHook, DataPostHook {
    static final String PID = "org.postern.smtp.plugin.naughty";
    private static final Logger LOG = LoggerFactory.getLogger(Naughty.class);
    private static final List<HookType> REFUSING_HOOKS =
            List.of(HookType.CONNECT, HookType.MAIL, HookType.RCPT, HookType.DATA, HookType.DATA_POST);

    @ObjectClassDefinition(name = "Postern plugin: naughty",
            description = "Refuses sessions that other plugins marked naughty (reject naughty), at one hook")
    public @interface Config {
        @AttributeDefinition(description = "The hook at which a naughty session is refused: connect, mail, rcpt, data or data_post")
        String reject() default "rcpt";

        @AttributeDefinition(description = "The refusal when the plugin that marked the session gave no reject_type: "
                + "temp, perm, disconnect or temp_disconnect")
        String reject__type() default "disconnect";
    }

    private final HookType refusalHook;
    private final String rejectType;

    @Activate
    public Naughty(Config config) {
        this.refusalHook = refusalHook(config.reject());
        this.rejectType = config.reject__type();
    }

    /** qpsmtpd falls back to data_post for a hook it cannot refuse at, and says so. */
    private static HookType refusalHook(String reject) {
        String name = reject.trim().toLowerCase(Locale.ROOT);
        Optional<HookType> hook = HookType.forName(name).filter(REFUSING_HOOKS::contains);
        if (hook.isEmpty()) {
            LOG.error("configuration {}: key 'reject': '{}' is none of connect, mail, rcpt, data, data_post; refusing at data_post",
                    PID, reject);
        }
        return hook.orElse(HookType.DATA_POST);
    }

    @Override
    public HookResult onConnect(HookContext ctx) {
        return answer(ctx, HookType.CONNECT);
    }

    @Override
    public HookResult onMail(MailContext ctx) {
        return answer(ctx, HookType.MAIL);
    }

    @Override
    public HookResult onRcpt(RcptContext ctx) {
        return answer(ctx, HookType.RCPT);
    }

    @Override
    public HookResult onData(HookContext ctx) {
        return answer(ctx, HookType.DATA);
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        return answer(ctx, HookType.DATA_POST);
    }

    private HookResult answer(HookContext ctx, HookType hook) {
        Notes notes = ctx.session().notes();
        Optional<String> deferred = notes.get(SharedNotes.NAUGHTY).filter(text -> !text.isBlank());
        if (deferred.isPresent() && ctx.session().authenticatedUser().isPresent()) {
            // qpsmtpd's core forgets the refusal when AUTH succeeds; Postern's core leaves that to this plugin
            notes.remove(SharedNotes.NAUGHTY);
            ctx.log(LogLevel.INFO, "auth success cleared naughty");
            deferred = Optional.empty();
        }
        if (hook != refusalHook && hook != HookType.DATA_POST) {
            return HookResult.declined();
        }
        if (deferred.isEmpty()) {
            ctx.log(LogLevel.INFO, "pass");
            return HookResult.declined();
        }
        ctx.log(LogLevel.INFO, "disconnecting");
        String storedType = notes.get(SharedNotes.NAUGHTY_REJECT_TYPE).filter(type -> !type.isBlank()).orElse(rejectType);
        ReturnCode refusal = PluginConventions.rejectType(storedType, ReturnCode.DENY_DISCONNECT);
        return HookResult.of(refusal, replyLines(deferred.get()));
    }

    /** Each deferred refusal is one line of the reply (PluginConventions joins them with CRLF). */
    private static String[] replyLines(String deferred) {
        return Arrays.stream(deferred.split("\r\n|\r|\n")).filter(line -> !line.isBlank()).toArray(String[]::new);
    }
}
