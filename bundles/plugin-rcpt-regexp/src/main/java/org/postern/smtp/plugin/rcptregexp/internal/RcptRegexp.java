package org.postern.smtp.plugin.rcptregexp.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * qpsmtpd's {@code rcpt_regexp}: each line of the config item {@code rcpt_regexp} is an address or a
 * {@code /regular expression/}, a return code and a reply. The first line that matches the recipient
 * (case-insensitively) gives the answer; when none does, the plugin declines.
 */
@Component(service = RcptHook.class, configurationPid = "org.postern.smtp.plugin.rcpt_regexp")
@Designate(ocd = RcptRegexp.Config.class)
@PosternPlugin("rcpt_regexp")
@PosternHook("rcpt")
@HookOrder(850)
public final class RcptRegexp implements RcptHook {
    private static final Pattern SLASHED = Pattern.compile("^/(.*)/$");

    /** Its lines are the config item rcpt_regexp; only its place in the chain is its own. */
    @ObjectClassDefinition(name = "Postern plugin: rcpt_regexp")
    public @interface Config {
        @AttributeDefinition(description = "Place in the rcpt chain; lower runs first")
        int postern_hook_order() default 850;
    }

    /** One usable line: an address (lower case) or a pattern, what to answer, and the reply text if any. */
    private record Rule(String line, String address, Pattern pattern, ReturnCode code, String reply) {
        boolean matches(String recipient) {
            return pattern == null ? address.equals(recipient) : pattern.matcher(recipient).find();
        }
    }

    /** The rules read from the item's lines, kept until the lines change, so patterns compile once. */
    private record Rules(List<String> lines, List<Rule> rules) {
    }

    private volatile Rules rules = new Rules(List.of(), List.of());

    @Override
    public HookResult onRcpt(RcptContext ctx) {
        Address recipient = ctx.recipient();
        if (recipient.user().isEmpty() || recipient.host().isEmpty()) {
            return HookResult.declined();
        }
        String rcpt = recipient.address().toLowerCase(Locale.ROOT);
        for (Rule rule : rules(ctx)) {
            if (rule.matches(rcpt)) {
                ctx.log(LogLevel.DEBUG, (rule.pattern() == null ? "String " : "RE ") + rule.line() + " matched " + rcpt
                        + ", returning " + rule.code());
                boolean replies = rule.reply() != null && rule.code() != ReturnCode.OK && rule.code() != ReturnCode.DECLINED;
                return replies ? HookResult.of(rule.code(), rule.reply()) : HookResult.of(rule.code());
            }
        }
        return HookResult.declined();
    }

    private List<Rule> rules(HookContext ctx) {
        List<String> lines = ctx.config("rcpt_regexp");
        Rules current = rules;
        if (!current.lines().equals(lines)) {
            current = new Rules(List.copyOf(lines), parse(lines, ctx));
            rules = current;
        }
        return current.rules();
    }

    /** qpsmtpd's reading of each line; an unusable line is logged once, at WARN, and skipped. */
    private static List<Rule> parse(List<String> lines, HookContext ctx) {
        List<Rule> parsed = new ArrayList<>();
        for (String line : lines) {
            String[] parts = line.strip().split("\\s+", 3);
            if (parts[0].isEmpty() || parts[0].startsWith("#")) {
                continue;
            }
            Matcher slashed = SLASHED.matcher(parts[0]);
            Pattern pattern = null;
            if (slashed.matches()) {
                try {
                    pattern = Pattern.compile(slashed.group(1), Pattern.CASE_INSENSITIVE);
                } catch (PatternSyntaxException e) {
                    ctx.log(LogLevel.WARN, "REGEXP '" + slashed.group(1) + "' not valid: " + e.getDescription());
                    continue;
                }
            }
            if (parts.length < 2) {
                ctx.log(LogLevel.WARN, "rcpt_regexp - no return code");
                continue;
            }
            Optional<ReturnCode> code = returnCode(parts[1]);
            if (code.isEmpty()) {
                ctx.log(LogLevel.WARN, "rcpt_regexp - '" + parts[1] + "' is not a valid constant, ignoring this line");
                continue;
            }
            parsed.add(new Rule(parts[0], parts[0].toLowerCase(Locale.ROOT), pattern, code.get(), parts.length > 2 ? parts[2] : null));
        }
        return List.copyOf(parsed);
    }

    /** qpsmtpd's constant names, which ReturnCode keeps; DENYHARD is DENY_DISCONNECT's old name. */
    private static Optional<ReturnCode> returnCode(String name) {
        String current = name.equals("DENYHARD") ? ReturnCode.DENY_DISCONNECT.name() : name;
        return Arrays.stream(ReturnCode.values()).filter(code -> code.name().equals(current)).findFirst();
    }
}
