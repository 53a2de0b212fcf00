package org.postern.smtp.plugin.dontrequireanglebrackets.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.AddressPreContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MailPreHook;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.RcptPreHook;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * qpsmtpd's {@code dont_require_anglebrackets}: {@code MAIL FROM:user@example.com} is taken as
 * {@code MAIL FROM:<user@example.com>}, and the same for RCPT TO, at a karma of -2 for the sloppy client.
 */
@Component(service = {MailPreHook.class, RcptPreHook.class}, configurationPid = "org.postern.smtp.plugin.dont_require_anglebrackets")
@Designate(ocd = DontRequireAnglebrackets.Config.class)
@PosternPlugin("dont_require_anglebrackets")
@PosternHook({"mail_pre", "rcpt_pre"})
@HookOrder(100)
public final class DontRequireAnglebrackets implements MailPreHook, RcptPreHook {

    /** The plugin has no options of its own; only its place in the chains. */
    @ObjectClassDefinition(name = "Postern plugin: dont_require_anglebrackets")
    public @interface Config {
        @AttributeDefinition(description = "Place in the mail_pre and rcpt_pre chains; lower runs first")
        int postern_hook_order() default 100;
    }

    @Override
    public HookResult onMailPre(AddressPreContext ctx) {
        return bracketed(ctx, "MAIL");
    }

    @Override
    public HookResult onRcptPre(AddressPreContext ctx) {
        return bracketed(ctx, "RCPT");
    }

    /** An address already in brackets is left to the next plugin: only a change needs an answer. */
    private static HookResult bracketed(AddressPreContext ctx, String command) {
        String address = ctx.address();
        if (address.startsWith("<") && address.endsWith(">")) {
            return HookResult.declined();
        }
        PluginConventions.adjustKarma(ctx, -2);
        ctx.log(LogLevel.INFO, "fail, added " + command + " angle brackets");
        return HookResult.ok("<" + address + ">");
    }
}
