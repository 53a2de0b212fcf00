package org.postern.smtp.plugin.badmailfromto.internal;

import java.util.List;
import java.util.Locale;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Refuses a recipient for one sender only, as qpsmtpd's {@code badmailfromto}: each value of the config item
 * {@code badmailfromto} is a sender (an address or an {@code @domain}) and a recipient address, separated by
 * white space. The refusal reads as if the recipient did not exist, so that a harassing sender does not learn
 * that it is the one blocked.
 */
@Component(service = RcptHook.class, configurationPid = BadMailFromTo.PID)
@Designate(ocd = BadMailFromTo.Config.class)
@PosternPlugin("badmailfromto")
@PosternHook("rcpt")
@HookOrder(310)
public final class BadMailFromTo implements RcptHook {
    static final String PID = "org.postern.smtp.plugin.badmailfromto";

    /** The pairs are the config item badmailfromto; only the plugin's place in the chain is its own. */
    @ObjectClassDefinition(name = "Postern plugin: badmailfromto",
            description = "Refuses the sender and recipient pairs listed in the config item badmailfromto")
    public @interface Config {
        @AttributeDefinition(description = "Place in the rcpt chain; lower runs first")
        int postern_hook_order() default 310;
    }

    @Override
    public HookResult onRcpt(RcptContext ctx) {
        List<String> pairs = ctx.config("badmailfromto");
        if (pairs.isEmpty()) {
            ctx.log(LogLevel.DEBUG, "skip, empty list");
            return HookResult.declined();
        }
        Address sender = ctx.transaction().sender().orElse(Address.nullSender());
        if (sender.isNullSender()) {
            ctx.log(LogLevel.DEBUG, "skip, null sender");
            return HookResult.declined();
        }
        if (sender.host().isEmpty() || sender.user().isEmpty()) {
            ctx.log(LogLevel.DEBUG, "skip, missing user or host");
            return HookResult.declined();
        }
        String host = sender.normalizedHost().orElseThrow();
        String from = sender.user().toLowerCase(Locale.ROOT) + "@" + host;
        String recipient = ctx.recipient().address().toLowerCase(Locale.ROOT);
        boolean senderListed = false;
        for (String pair : pairs) {
            String[] fields = pair.strip().split("\\s+");
            String badFrom = fields[0].toLowerCase(Locale.ROOT);
            if (badFrom.isEmpty()) {
                continue;
            }
            if (!badFrom.contains("@")) {
                ctx.log(LogLevel.WARN, "bad config, no @ sign in " + badFrom);
                continue;
            }
            if (badFrom.equals(from) || badFrom.equals("@" + host)) {
                senderListed = true;
                if (fields.length > 1 && fields[1].toLowerCase(Locale.ROOT).equals(recipient)) {
                    ctx.log(LogLevel.INFO, "fail, " + badFrom + " may not send to " + recipient);
                    return HookResult.deny("mail to " + recipient + " not accepted here").withEnhancedStatus("5.1.1");
                }
            }
        }
        ctx.log(LogLevel.DEBUG, senderListed ? "pass, recipient not listed" : "pass, sender not listed");
        return HookResult.declined();
    }
}
