package org.postern.smtp.plugin.logging.transactionid.internal;

import java.util.function.BiConsumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.LoggingContext;
import org.postern.smtp.api.LoggingHook;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code logging/transaction_id}: logging/connection_id with the id of the mail transaction a line is
 * about ({@code <session id>.<transaction number>}), so the lines of one message stand apart from those of the
 * next message in the same session. Answers OK to every line and comes last, as logging/warn does.
 */
@Component(service = LoggingHook.class, configurationPid = TransactionId.PID)
@Designate(ocd = TransactionId.Config.class)
@PosternPlugin("logging/transaction_id")
@PosternHook("logging")
@HookOrder(900)
public final class TransactionId implements LoggingHook {
    static final String PID = "org.postern.smtp.plugin.logging.transaction_id";
    private static final Logger LOG = LoggerFactory.getLogger(TransactionId.class);

    @ObjectClassDefinition(name = "Postern plugin: logging/transaction_id",
            description = "Writes log lines up to a level to the server log, led by their mail transaction's id")
    public @interface Config {
        @AttributeDefinition(description = "Lines at this level and more severe are written: LOGDEBUG … LOGEMERG, or 7 … 0")
        String loglevel() default "LOGWARN";
    }

    private final LogLevel threshold;
    private final BiConsumer<LogLevel, String> serverLog;

    @Activate
    public TransactionId(Config config) {
        this(config, (level, line) -> LOG.atLevel(level.slf4jLevel()).log(line));
    }

    TransactionId(Config config, BiConsumer<LogLevel, String> serverLog) {
        this.threshold = LogLevel.parse(config.loglevel()).orElseGet(() -> {
            LOG.error("configuration {}: key 'loglevel': '{}' is no level (LOGWARN … or a number); LOGWARN taken",
                    PID, config.loglevel());
            return LogLevel.WARN;
        });
        this.serverLog = serverLog;
    }

    @Override
    public HookResult onLogging(LoggingContext ctx) {
        if (ctx.level().compareTo(threshold) < 0) {
            return HookResult.ok();
        }
        String source = !ctx.pluginName().isEmpty() ? " " + ctx.pluginName() + " plugin:"
                : !ctx.hookName().isEmpty() ? " running plugin (" + ctx.hookName() + "):" : "";
        serverLog.accept(ctx.level(), ctx.transaction().id() + source + " " + ctx.text());
        return HookResult.ok();
    }

}
