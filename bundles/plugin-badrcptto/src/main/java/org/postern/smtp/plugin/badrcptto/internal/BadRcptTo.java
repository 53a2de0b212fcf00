package org.postern.smtp.plugin.badrcptto.internal;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Refuses recipients listed in the config item {@code badrcptto}, as qpsmtpd's {@code badrcptto}: a whole
 * address, an {@code @domain}, or a regular expression, each optionally followed by the reply text. The list is
 * read at every RCPT, so a change applies at once. Immune clients (relay clients, whitelisted hosts and senders)
 * are not checked.
 */
@Component(service = RcptHook.class, configurationPid = BadRcptTo.PID)
@Designate(ocd = BadRcptTo.Config.class)
@PosternPlugin("badrcptto")
@PosternHook("rcpt")
@HookOrder(300)
public final class BadRcptTo implements RcptHook {
    static final String PID = "org.postern.smtp.plugin.badrcptto";
    /** qpsmtpd takes an entry with any of these characters for a regular expression. */
    private static final Pattern REGEX_HINT = Pattern.compile("[/^$*+!%?\\\\]");

    /** The list is the config item badrcptto; only the plugin's place in the chain is its own. */
    @ObjectClassDefinition(name = "Postern plugin: badrcptto",
            description = "Refuses recipients listed in the config item badrcptto")
    public @interface Config {
        @AttributeDefinition(description = "Place in the rcpt chain; lower runs first")
        int postern_hook_order() default 300;
    }

    @Override
    public HookResult onRcpt(RcptContext ctx) {
        if (PluginConventions.isImmune(ctx)) {
            return HookResult.declined();
        }
        Address recipient = ctx.recipient();
        if (recipient.host().isEmpty() || recipient.user().isEmpty()) {
            ctx.log(LogLevel.INFO, "skip: missing host or user");
            return HookResult.declined();
        }
        List<String> lines = ctx.config("badrcptto");
        if (lines.isEmpty()) {
            ctx.log(LogLevel.INFO, "skip, empty config");
            return HookResult.declined();
        }
        String host = recipient.normalizedHost().orElseThrow();
        String to = recipient.user().toLowerCase(Locale.ROOT) + "@" + host;
        for (String line : lines) {
            String[] fields = line.strip().split("\\s+", 2);
            String bad = fields[0];
            if (!bad.isEmpty() && matches(ctx, bad, to, host)) {
                PluginConventions.adjustKarma(ctx, -2);
                if (fields.length > 1) {
                    return HookResult.deny(fields[1]);
                }
                // qpsmtpd's Qpsmtpd::DSN->no_such_user, which appends "(#5.1.1)" to the text
                return HookResult.deny("mail to " + bad + " not accepted here").withEnhancedStatus("5.1.1");
            }
        }
        ctx.log(LogLevel.INFO, "pass");
        return HookResult.declined();
    }

    private static boolean matches(RcptContext ctx, String bad, String to, String host) {
        if (REGEX_HINT.matcher(bad).find()) {
            if (pattern(ctx, bad).map(pattern -> pattern.matcher(to).find()).orElse(false)) {
                ctx.log(LogLevel.INFO, "fail: pattern match");
                return true;
            }
            return false;
        }
        String entry = bad.toLowerCase(Locale.ROOT);
        if (!entry.contains("@")) {
            ctx.log(LogLevel.ERROR, "bad config: no @ sign in " + bad);
            return false;
        }
        if (entry.startsWith("@")) {
            if (entry.equals("@" + host)) {
                ctx.log(LogLevel.INFO, "fail: host match");
                return true;
            }
            return false;
        }
        if (entry.equals(to)) {
            ctx.log(LogLevel.INFO, "fail: rcpt match");
            return true;
        }
        return false;
    }

    /**
     * The entry as a case-insensitive pattern. qpsmtpd lower-cases the pattern itself, which turns {@code \S}
     * into {@code \s}; the flag leaves escapes alone.
     */
    private static Optional<Pattern> pattern(RcptContext ctx, String bad) {
        try {
            return Optional.of(Pattern.compile(bad, Pattern.CASE_INSENSITIVE));
        } catch (PatternSyntaxException e) {
            ctx.log(LogLevel.ERROR, "bad config: '" + bad + "' is not a valid pattern (" + e.getDescription() + "); ignored");
            return Optional.empty();
        }
    }
}
