package org.postern.smtp.plugin.bogusbounce.internal;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.Transaction;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code bogus_bounce}: a bounce (null sender) goes to exactly one recipient and carries no
 * Return-Path other than {@code <>}; one that does not is logged, or refused with {@code reject}.
 */
@Component(service = DataPostHook.class, configurationPid = BogusBounce.PID)
@Designate(ocd = BogusBounce.Config.class)
@PosternPlugin("bogus_bounce")
@PosternHook("data_post")
@HookOrder(400)
public final class BogusBounce implements DataPostHook {
    static final String PID = "org.postern.smtp.plugin.bogus_bounce";
    private static final Logger LOG = LoggerFactory.getLogger(BogusBounce.class);

    /** Keys are qpsmtpd's option names: a double underscore in a method name is an underscore in the key. */
    @ObjectClassDefinition(name = "Postern plugin: bogus_bounce",
            description = "Logs or refuses bounces with more than one recipient or a Return-Path")
    public @interface Config {
        @AttributeDefinition(description = "qpsmtpd's single argument: log, deny (refuse) or denysoft (refuse temporarily); "
                + "empty: reject and reject_type decide")
        String action() default "";

        @AttributeDefinition(description = "0 only logs a bogus bounce, 1 refuses it, naughty leaves the refusal to the naughty plugin")
        String reject() default "0";

        @AttributeDefinition(description = "How a bogus bounce is refused: perm, temp, disconnect or temp_disconnect")
        String reject__type() default "perm";

        @AttributeDefinition(description = "Place in the data_post chain; lower runs first")
        int postern_hook_order() default 400;
    }

    private final String reject;
    private final String rejectType;

    @Activate
    public BogusBounce(Config config) {
        String action = config.action().strip().toLowerCase(Locale.ROOT);
        boolean refuse = action.equals("deny") || action.equals("denysoft");
        if (!refuse && !action.isEmpty() && !action.equals("log")) {
            LOG.error("configuration {}: key 'action': '{}' is none of log, deny, denysoft; only reject and reject_type count",
                    PID, config.action());
        }
        boolean tolerated = List.of("", "0", "false").contains(config.reject().strip().toLowerCase(Locale.ROOT));
        this.reject = refuse && tolerated ? "1" : config.reject();
        this.rejectType = action.equals("denysoft") ? "temp" : config.reject__type();
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        Transaction transaction = ctx.transaction();
        if (!transaction.sender().orElse(Address.nullSender()).isNullSender()) {
            ctx.log(LogLevel.INFO, "pass, not a null sender");
            return HookResult.declined();
        }
        if (transaction.recipients().size() != 1) {
            String recipients = transaction.recipients().stream().map(recipient -> recipient.address().format())
                    .collect(Collectors.joining(","));
            return PluginConventions.reject(ctx, reject, rejectType, "fail, this bounce message does not have 1 recipient",
                    "bogus bounce to: " + recipients);
        }
        List<String> returnPaths = transaction.header().map(header -> header.get("Return-Path")).orElse(List.of());
        if (returnPaths.stream().anyMatch(path -> !path.strip().equals("<>"))) {
            return PluginConventions.reject(ctx, reject, rejectType, "a bounce return path must be empty (RFC 3834)",
                    "bounce messages must not have a Return-Path");
        }
        ctx.log(LogLevel.INFO, "pass, single recipient, empty Return-Path");
        return HookResult.declined();
    }
}
