package org.postern.smtp.plugin.parseaddrwithhelo.internal;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MailParseHook;
import org.postern.smtp.api.ParseContext;
import org.postern.smtp.api.RcptParseHook;
import org.postern.smtp.api.Session;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * qpsmtpd's {@code parse_addr_withhelo}: a client that said HELO speaks RFC 821, which has no parameters after
 * the address of MAIL FROM and RCPT TO, so this plugin parses those commands for it and refuses any
 * parameter. After EHLO it leaves them to the core's parser, which takes RFC 1869 parameters.
 */
@Component(service = {MailParseHook.class, RcptParseHook.class}, configurationPid = "org.postern.smtp.plugin.parse_addr_withhelo")
@Designate(ocd = ParseAddrWithHelo.Config.class)
@PosternPlugin("parse_addr_withhelo")
@PosternHook({"mail_parse", "rcpt_parse"})
@HookOrder(100)
public final class ParseAddrWithHelo implements MailParseHook, RcptParseHook {
    private static final Pattern MAIL_PREFIX = Pattern.compile("^from:\\s*", Pattern.CASE_INSENSITIVE);
    private static final Pattern RCPT_PREFIX = Pattern.compile("^to:\\s*", Pattern.CASE_INSENSITIVE);
    private static final Pattern WORD_AFTER_ADDRESS = Pattern.compile("@\\S+\\s+\\S");
    private static final Pattern LOCAL_RECIPIENT = Pattern.compile("postmaster|abuse", Pattern.CASE_INSENSITIVE);

    /** The plugin has no options of its own; only its place in the chains. */
    @ObjectClassDefinition(name = "Postern plugin: parse_addr_withhelo")
    public @interface Config {
        @AttributeDefinition(description = "Place in the mail_parse and rcpt_parse chains; lower runs first")
        int postern_hook_order() default 100;
    }

    @Override
    public HookResult onMailParse(ParseContext ctx) {
        return saidHelo(ctx.session()) ? parse(ctx, "mail", MAIL_PREFIX) : HookResult.declined();
    }

    @Override
    public HookResult onRcptParse(ParseContext ctx) {
        return saidHelo(ctx.session()) ? parse(ctx, "rcpt", RCPT_PREFIX) : HookResult.declined();
    }

    private static boolean saidHelo(Session session) {
        return session.heloHost().isPresent() && !session.extended();
    }

    /** The address alone, as the core's *_pre hooks and address parser expect it, or a 501 with qpsmtpd's text. */
    private static HookResult parse(ParseContext ctx, String command, Pattern prefix) {
        ctx.log(LogLevel.DEBUG, "_parse() cmd=[" + command + "], line=[" + ctx.line() + "]");
        Matcher start = prefix.matcher(ctx.line());
        if (!start.find()) {
            return HookResult.deny("Syntax error in command");
        }
        String line = ctx.line().substring(start.end());
        String noParameters = "No parameters allowed in " + command.toUpperCase(Locale.ROOT);
        int closing = line.lastIndexOf('>');
        if (line.startsWith("<") && closing > 0) {
            boolean parameters = !line.substring(closing + 1).isBlank();
            return parameters ? HookResult.deny(noParameters) : HookResult.ok(line.substring(0, closing + 1));
        }
        line = line.stripTrailing();
        if (line.contains("@")) {
            return WORD_AFTER_ADDRESS.matcher(line).find() ? HookResult.deny(noParameters) : HookResult.ok(line);
        }
        if (command.equals("mail")) {
            return line.isEmpty() ? HookResult.ok("<>") : HookResult.deny("Could not parse your MAIL FROM command");
        }
        return LOCAL_RECIPIENT.matcher(line).matches() ? HookResult.ok(line) : HookResult.deny("Could not parse your RCPT TO command");
    }
}
