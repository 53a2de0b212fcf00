package org.postern.smtp.plugin.badmailfrom.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MailContext;
import org.postern.smtp.api.MailHook;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses envelope senders listed in badmailfrom, as qpsmtpd's {@code badmailfrom}: an address, an
 * {@code @domain}, or a regular expression, each optionally followed by the reason the client is given.
 * Each factory configuration is one instance with its own list, reason and order.
 */
@Component(service = MailHook.class, configurationPid = BadMailFrom.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = BadMailFrom.Config.class, factory = true)
@PosternPlugin("badmailfrom")
@PosternHook("mail")
@HookOrder(300)
public final class BadMailFrom implements MailHook {
    static final String PID = "org.postern.smtp.plugin.badmailfrom";
    private static final Logger LOG = LoggerFactory.getLogger(BadMailFrom.class);
    private static final Pattern REGEX_HINT = Pattern.compile("[/^$*+!%?\\\\]");

    @ObjectClassDefinition(name = "Postern plugin: badmailfrom")
    public @interface Config {
        @AttributeDefinition(description = "Entries: an address, @domain or pattern, then optionally a reason; comma separated")
        String[] entries() default {};

        @AttributeDefinition(description = "Also read the config item 'badmailfrom' (one entry per value)")
        boolean use__config__item() default true;

        @AttributeDefinition(description = "Reason given when an entry has none")
        String reason() default "Your envelope sender is in my badmailfrom list";
    }

    private record Entry(String bad, Pattern pattern, String reason) {
    }

    private volatile List<Entry> entries;
    private volatile boolean useConfigItem;
    private volatile String defaultReason;

    @Activate
    public BadMailFrom(Config config) {
        configure(config);
    }

    @Modified
    void configure(Config config) {
        List<String> lines = new ArrayList<>();
        for (String value : config.entries()) {
            lines.addAll(List.of(value.split(",")));
        }
        entries = parse(lines, bad -> LOG.error("configuration {}: key 'entries': '{}' is neither an address, an @domain "
                + "nor a valid pattern; ignored", PID, bad));
        useConfigItem = config.use__config__item();
        defaultReason = config.reason();
    }

    @Override
    public HookResult onMail(MailContext ctx) {
        Address sender = ctx.sender();
        if (sender.isNullSender() || sender.host().isEmpty() || sender.user().isEmpty()) {
            return HookResult.declined();
        }
        String host = sender.normalizedHost().orElseThrow();
        String from = sender.user().toLowerCase(Locale.ROOT) + "@" + host;
        List<Entry> all = new ArrayList<>(entries);
        if (useConfigItem) {
            all.addAll(parse(ctx.config("badmailfrom"),
                    bad -> ctx.log(LogLevel.WARN, "config item badmailfrom: '" + bad + "' is not usable; ignored")));
        }
        for (Entry entry : all) {
            if (matches(entry, from, host)) {
                ctx.log(LogLevel.INFO, "fail: " + from + " matches " + entry.bad());
                return HookResult.deny(entry.reason() != null ? entry.reason() : defaultReason);
            }
        }
        return HookResult.declined();
    }

    private static boolean matches(Entry entry, String from, String host) {
        if (entry.pattern() != null) {
            return entry.pattern().matcher(from).find();
        }
        return entry.bad().startsWith("@") ? entry.bad().equals("@" + host) : entry.bad().equals(from);
    }

    /** Entries as qpsmtpd writes them: the sender, then white space and the reason; bad ones are reported. */
    static List<Entry> parse(List<String> lines, Consumer<String> rejected) {
        List<Entry> parsed = new ArrayList<>();
        for (String line : lines) {
            String[] parts = line.strip().split("\\s+", 2);
            if (parts[0].isEmpty()) {
                continue;
            }
            String reason = parts.length > 1 ? parts[1] : null;
            if (REGEX_HINT.matcher(parts[0]).find()) {
                try {
                    parsed.add(new Entry(parts[0], Pattern.compile(parts[0]), reason));
                } catch (PatternSyntaxException e) {
                    rejected.accept(parts[0]);
                }
            } else if (parts[0].contains("@")) {
                parsed.add(new Entry(parts[0].toLowerCase(Locale.ROOT), null, reason));
            } else {
                rejected.accept(parts[0]);
            }
        }
        return List.copyOf(parsed);
    }
}
