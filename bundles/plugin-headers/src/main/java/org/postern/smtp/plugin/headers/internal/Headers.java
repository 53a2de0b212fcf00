package org.postern.smtp.plugin.headers.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * qpsmtpd's {@code headers}: a message must have some data, a non-empty value for each required header, at
 * most one of each singular header (RFC 5322 3.6), and, when {@code past} or {@code future} is set, a Date
 * within that many days of now. Immune clients skip all but the first test.
 */
@Component(service = DataPostHook.class, configurationPid = "org.postern.smtp.plugin.headers")
@Designate(ocd = Headers.Config.class)
@PosternPlugin("headers")
@PosternHook("data_post")
@HookOrder(310)
public final class Headers implements DataPostHook {
    private static final List<String> SINGULAR_HEADERS = List.of("Date", "From", "Sender", "Reply-To", "To", "Cc", "Bcc",
            "Message-Id", "In-Reply-To", "References", "Subject");

    @ObjectClassDefinition(name = "Postern plugin: headers", description = "Validates message headers (RFC 5322)")
    public @interface Config {
        @AttributeDefinition(description = "Headers every message must have with a value, comma separated")
        String[] require() default "From";

        @AttributeDefinition(description = "Days a Date header may lie in the future; 0: not tested")
        double future() default 0;

        @AttributeDefinition(description = "Days a Date header may lie in the past; 0: not tested")
        double past() default 0;

        @AttributeDefinition(description = "1: refuse, 0: only log, naughty: leave the refusal to the naughty plugin")
        String reject() default "1";

        @AttributeDefinition(description = "perm, temp, disconnect or temp_disconnect")
        String reject__type() default "perm";
    }

    private final List<String> required;
    private final Optional<Duration> future;
    private final Optional<Duration> past;
    private final String reject;
    private final String rejectType;
    private final Clock clock;

    @Activate
    public Headers(Config config) {
        this(config, Clock.systemUTC());
    }

    Headers(Config config, Clock clock) {
        this.required = Arrays.stream(config.require()).flatMap(names -> Arrays.stream(names.split(",")))
                .map(String::strip).filter(name -> !name.isEmpty()).toList();
        this.future = days(config.future());
        this.past = days(config.past());
        this.reject = config.reject();
        this.rejectType = config.reject__type();
        this.clock = clock;
    }

    private static Optional<Duration> days(double days) {
        return days > 0 ? Optional.of(Duration.ofSeconds(Math.round(days * 86_400))) : Optional.empty();
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        if (ctx.transaction().size() == 0) {
            return refuse(ctx, "no data", "You must send some data first");
        }
        Optional<MessageHeader> header = ctx.transaction().header();
        if (header.isEmpty()) {
            return refuse(ctx, "missing headers", "Headers are missing");
        }
        if (PluginConventions.isImmune(ctx)) {
            return HookResult.declined();
        }
        List<String> problems = new ArrayList<>();
        for (String name : required) {
            if (header.get().get(name).stream().allMatch(String::isEmpty)) {
                problems.add(problem(ctx, "fail, no " + name + " header", "We require a valid " + name + " header"));
            }
        }
        for (String name : SINGULAR_HEADERS) {
            if (header.get().get(name).size() > 1) {
                problems.add(problem(ctx, "fail, too many " + name + " headers",
                        "Only one " + name + " header allowed. See RFC 5322, Section 3.6"));
            }
        }
        Optional<String> dateProblem = header.get().get("Date").stream().findFirst().flatMap(date -> dateProblem(ctx, date));
        if (dateProblem.isPresent()) {
            return refuse(ctx, dateProblem.get(), dateProblem.get());
        }
        if (!problems.isEmpty()) {
            return refuse(ctx, "RFC 5322 validation errors", problems.toArray(String[]::new));
        }
        ctx.log(LogLevel.INFO, "pass");
        return HookResult.declined();
    }

    private static String problem(HookContext ctx, String logLine, String reply) {
        PluginConventions.adjustKarma(ctx, -1);
        ctx.log(LogLevel.INFO, logLine);
        return reply;
    }

    private Optional<String> dateProblem(HookContext ctx, String date) {
        Optional<Instant> sent = MessageDate.parse(date);
        if (sent.isEmpty()) {
            ctx.log(LogLevel.INFO, "skip, date not parseable (" + date + ")");
            return Optional.empty();
        }
        Instant now = clock.instant();
        if (past.isPresent() && sent.get().isBefore(now.minus(past.get()))) {
            return Optional.of(problem(ctx, "fail, date too old (" + date + ")", "The Date header is too far in the past"));
        }
        if (future.isPresent() && sent.get().isAfter(now.plus(future.get()))) {
            return Optional.of(problem(ctx, "fail, date in future (" + date + ")", "The Date header is too far in the future"));
        }
        return Optional.empty();
    }

    /** {@code reject} and {@code reject_type} decide; a refusal has one reply line per problem. */
    private HookResult refuse(HookContext ctx, String logDetail, String... replyLines) {
        // PluginConventions joins a deferred reply's lines with CRLF, as the naughty plugin expects them
        HookResult refusal = PluginConventions.reject(ctx, reject, rejectType, String.join("\r\n", replyLines), logDetail);
        return refusal.code().isDenial() ? HookResult.of(refusal.code(), replyLines) : refusal;
    }
}
