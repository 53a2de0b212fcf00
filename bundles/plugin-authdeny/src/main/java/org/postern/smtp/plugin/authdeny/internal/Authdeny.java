package org.postern.smtp.plugin.authdeny.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.AuthContext;
import org.postern.smtp.api.AuthHook;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * qpsmtpd's {@code auth/authdeny}: answers the catch-all {@code auth} hook, which the core asks only when the
 * mechanism's own plugins declined, by logging the attempt and declining it with a reason; with every plugin
 * declined the client gets 535. Answering {@code auth} also has EHLO offer every mechanism (PLAIN, LOGIN, CRAM-MD5).
 */
@Component(service = AuthHook.class, configurationPid = "org.postern.smtp.plugin.authdeny")
@Designate(ocd = Authdeny.Config.class)
@PosternPlugin("authdeny")
@PosternHook("auth")
@HookOrder(1000)
public final class Authdeny implements AuthHook {

    /** The plugin has no options of its own (qpsmtpd's takes none); only its place in the chain. */
    @ObjectClassDefinition(name = "Postern plugin: authdeny")
    public @interface Config {
        @AttributeDefinition(description = "Place in the auth chain; lower runs first")
        int postern_hook_order() default 1000;
    }

    @Override
    public HookResult onAuth(AuthContext ctx) {
        String reason = ctx.user() + " is not free to abuse my relay";
        // the core keeps no reason when every plugin declined, so the log line carries it
        ctx.log(LogLevel.WARN, "fail: cannot authenticate; " + reason);
        // DECLINED, not DENY, as in qpsmtpd: an auth plugin after this one may still know the user; the reason
        // reaches the ok hook's plugins, and never the client
        return HookResult.of(ReturnCode.DECLINED, reason);
    }
}
