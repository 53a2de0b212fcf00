package org.postern.smtp.plugin.logging.connectionid.internal;

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
 * qpsmtpd's {@code logging/connection_id}: writes each line at {@code loglevel} or more severe to the server log,
 * led by the id of the connection it is about ({@code <id> <plugin> plugin: <text>}), and drops the others. Like
 * logging/warn it answers OK to every line, so the server does not write the line again in its own format, and
 * comes last in the chain.
 */
@Component(service = LoggingHook.class, configurationPid = ConnectionId.PID)
@Designate(ocd = ConnectionId.Config.class)
@PosternPlugin("logging/connection_id")
@PosternHook("logging")
@HookOrder(900)
public final class ConnectionId implements LoggingHook {
    static final String PID = "org.postern.smtp.plugin.logging.connection_id";
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionId.class);

    @ObjectClassDefinition(name = "Postern plugin: logging/connection_id",
            description = "Writes log lines up to a level to the server log, led by their connection's id")
    public @interface Config {
        @AttributeDefinition(description = "Lines at this level and more severe are written: LOGDEBUG … LOGEMERG, or 7 … 0")
        String loglevel() default "LOGWARN";
    }

    private final LogLevel threshold;
    private final BiConsumer<LogLevel, String> serverLog;

    @Activate
    public ConnectionId(Config config) {
        this(config, (level, line) -> LOG.atLevel(level.slf4jLevel()).log(line));
    }

    ConnectionId(Config config, BiConsumer<LogLevel, String> serverLog) {
        this.threshold = loglevel(config.loglevel());
        this.serverLog = serverLog;
    }

    @Override
    public HookResult onLogging(LoggingContext ctx) {
        if (ctx.level().compareTo(threshold) >= 0) {
            serverLog.accept(ctx.level(), ctx.session().id() + source(ctx.hookName(), ctx.pluginName()) + " " + ctx.text());
        }
        return HookResult.ok();
    }

    /** qpsmtpd's prefix: the plugin that logged the line, else the hook it was logged in. */
    private static String source(String hook, String plugin) {
        if (!plugin.isEmpty()) {
            return " " + plugin + " plugin:";
        }
        return hook.isEmpty() ? "" : " running plugin (" + hook + "):";
    }


    private static LogLevel loglevel(String value) {
        return LogLevel.parse(value).orElseGet(() -> {
            LOG.error("configuration {}: key 'loglevel': '{}' is no level (LOGWARN … or a number); LOGWARN taken", PID, value);
            return LogLevel.WARN;
        });
    }
}
