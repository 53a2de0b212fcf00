package org.postern.smtp.plugin.logging.warn.internal;

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
 * qpsmtpd's {@code logging/warn}: writes each line at {@code loglevel} or more severe to the server log in
 * qpsmtpd's own format, {@code <pid> (<hook>) <plugin>: <text>}, and drops the others. It answers OK to every line,
 * so the server does not write the line a second time in its own format; being last in the chain, it leaves the
 * other logging plugins every line.
 */
@Component(service = LoggingHook.class, configurationPid = Warn.PID)
@Designate(ocd = Warn.Config.class)
@PosternPlugin("logging/warn")
@PosternHook("logging")
@HookOrder(900)
public final class Warn implements LoggingHook {
    static final String PID = "org.postern.smtp.plugin.logging.warn";
    private static final Logger LOG = LoggerFactory.getLogger(Warn.class);
    private static final String PROCESS_ID = Long.toString(ProcessHandle.current().pid());

    @ObjectClassDefinition(name = "Postern plugin: logging/warn",
            description = "Writes log lines up to a level to the server log, in qpsmtpd's format")
    public @interface Config {
        @AttributeDefinition(description = "Lines at this level and more severe are written: LOGDEBUG … LOGEMERG, or 7 … 0")
        String loglevel() default "LOGWARN";
    }

    private final LogLevel threshold;
    private final BiConsumer<LogLevel, String> serverLog;

    @Activate
    public Warn(Config config) {
        this(config, (level, line) -> LOG.atLevel(level.slf4jLevel()).log(line));
    }

    Warn(Config config, BiConsumer<LogLevel, String> serverLog) {
        this.threshold = loglevel(config.loglevel());
        this.serverLog = serverLog;
    }

    @Override
    public HookResult onLogging(LoggingContext ctx) {
        if (ctx.level().compareTo(threshold) >= 0) {
            serverLog.accept(ctx.level(), PROCESS_ID + source(ctx.hookName(), ctx.pluginName()) + " " + ctx.text());
        }
        return HookResult.ok();
    }

    /** qpsmtpd's prefix: which plugin logged the line, and in which hook. */
    private static String source(String hook, String plugin) {
        if (!plugin.isEmpty()) {
            return hook.isEmpty() ? " " + plugin + ":" : " (" + hook + ") " + plugin + ":";
        }
        return hook.isEmpty() ? "" : " (" + hook + ") running plugin:";
    }


    private static LogLevel loglevel(String value) {
        return LogLevel.parse(value).orElseGet(() -> {
            LOG.error("configuration {}: key 'loglevel': '{}' is no level (LOGWARN … or a number); LOGWARN taken", PID, value);
            return LogLevel.WARN;
        });
    }
}
