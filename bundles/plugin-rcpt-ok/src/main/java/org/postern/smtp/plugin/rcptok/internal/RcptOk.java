package org.postern.smtp.plugin.rcptok.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Accepts a recipient whose domain is this server's ({@code me}) or listed in {@code rcpthosts} (a leading
 * dot matches every subdomain) or {@code morercpthosts}, and any recipient of a client that authenticated;
 * denies every other with qpsmtpd's {@code 550 Relaying denied}. Plugins that allow relaying for other
 * clients answer OK before it (a lower order).
 */
@Component(service = RcptHook.class, configurationPid = "org.postern.smtp.plugin.rcpt_ok")
@Designate(ocd = RcptOk.Config.class)
@PosternPlugin("rcpt_ok")
@PosternHook("rcpt")
@HookOrder(900)
public final class RcptOk implements RcptHook {

    /** Its domains are config items (me, rcpthosts, morercpthosts); only its place in the chain is its own. */
    @ObjectClassDefinition(name = "Postern plugin: rcpt_ok")
    public @interface Config {
        @AttributeDefinition(description = "Place in the rcpt chain; lower runs first")
        int postern_hook_order() default 900;
    }

    @Override
    public HookResult onRcpt(RcptContext ctx) {
        if (ctx.session().authenticatedUser().isPresent()) {
            // qpsmtpd's relay_client: a client that authenticated may send anywhere
            ctx.log(LogLevel.INFO, "pass: authenticated as " + ctx.session().authenticatedUser().get());
            return HookResult.ok();
        }
        if (ctx.session().notes().get(SharedNotes.RELAY_CLIENT).orElse(false)) {
            // marked by the relay plugin. qpsmtpd accepts every immune client here, whitelisted hosts and
            // senders included; a DNS whitelist vouches for a sender's mail, not for relaying it, so not those
            ctx.log(LogLevel.INFO, "pass: relay client");
            return HookResult.ok();
        }
        String host = ctx.recipient().normalizedHost().orElse(null);
        if (host == null) {
            // Address only parses a domain-less path for <postmaster>, which is always ours.
            return HookResult.ok();
        }
        List<String> local = new ArrayList<>(ctx.config("me"));
        local.addAll(ctx.config("rcpthosts"));
        local.addAll(ctx.config("morercpthosts"));
        for (String allowed : local) {
            String domain = allowed.strip().toLowerCase(Locale.ROOT);
            if (host.equals(domain) || (domain.startsWith(".") && host.endsWith(domain))) {
                ctx.log(LogLevel.INFO, "pass: " + host + " in rcpthosts");
                return HookResult.ok();
            }
        }
        ctx.log(LogLevel.INFO, "fail: " + host + " not in rcpthosts");
        return HookResult.deny("Relaying denied").withEnhancedStatus("5.7.1");
    }
}
