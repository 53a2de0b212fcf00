package org.postern.smtp.core.internal.dispatch;

import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.LogLevel;
import org.slf4j.Logger;
import org.slf4j.helpers.FormattingTuple;
import org.slf4j.helpers.MessageFormatter;

/**
 * The core's own lines about a session. qpsmtpd sends its core's log lines through the {@code logging} hook
 * as it does the plugins', so logging plugins see the whole conversation; here too. Logging plugins hear
 * every line from INFO up, whatever the server log keeps, and choose by their own level as qpsmtpd's do;
 * DEBUG lines (one per reply) only when the core's logger writes DEBUG too. A line nobody hears is not
 * even formatted.
 */
public final class CoreLog {
    private CoreLog() {
    }

    /**
     * Logs a line about the session of {@code ctx}, in slf4j's {@code {}} format; a trailing throwable
     * argument is logged with its stack trace, and logging plugins see its description.
     */
    public static void log(HookContext ctx, Logger logger, LogLevel level, String format, Object... arguments) {
        PluginSupport support = HookContexts.supportOf(ctx);
        if (!heard(logger, level, support != null && support.hasLoggingPlugins())) {
            return;
        }
        FormattingTuple line = MessageFormatter.arrayFormat(format, arguments);
        if (support == null) {
            write(logger, level, "session {}: {}", ctx.session().id(), line.getMessage(), line.getThrowable());
        } else {
            support.coreLog(ctx, logger, level, line.getMessage(), line.getThrowable());
        }
    }

    /** True when someone hears a line of this level: the logger, or logging plugins if there are any. */
    public static boolean heard(Logger logger, LogLevel level, boolean loggingPlugins) {
        return (loggingPlugins && level != LogLevel.DEBUG) || enabled(logger, level);
    }

    private static boolean enabled(Logger logger, LogLevel level) {
        return switch (level) {
            case DEBUG -> logger.isDebugEnabled();
            case INFO, NOTICE -> logger.isInfoEnabled();
            case WARN -> logger.isWarnEnabled();
            default -> logger.isErrorEnabled();
        };
    }

    /** Writes a line to slf4j at the level closest to qpsmtpd's. */
    public static void write(Logger logger, LogLevel level, String format, Object... arguments) {
        switch (level) {
            case DEBUG -> logger.debug(format, arguments);
            case INFO, NOTICE -> logger.info(format, arguments);
            case WARN -> logger.warn(format, arguments);
            default -> logger.error(format, arguments);
        }
    }
}
