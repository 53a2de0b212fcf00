package org.postern.smtp.plugin.logging.adaptive.internal;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.BiConsumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.DenyHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.LoggingContext;
import org.postern.smtp.api.LoggingHook;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.PostConnectionHook;
import org.postern.smtp.api.ResetTransactionHook;
import org.postern.smtp.api.ResultContext;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code logging/adaptive}: keeps a session's lines at the {@code reject} level and more severe. Once a
 * plugin denied something in the session, the kept lines and all later ones are written to the server log; when a
 * transaction or the session ends without a denial, only the kept lines at the {@code accept} level are written,
 * marked with the {@code prefix}. It takes every line it hears (answers OK), so the server log gets no other copy.
 */
@Component(service = {LoggingHook.class, DenyHook.class, ResetTransactionHook.class, PostConnectionHook.class},
        configurationPid = LoggingAdaptive.PID)
@Designate(ocd = LoggingAdaptive.Config.class)
@PosternPlugin("logging/adaptive")
@PosternHook({"logging", "deny", "reset_transaction", "post_connection"})
@HookOrder(900)
public final class LoggingAdaptive implements LoggingHook, DenyHook, ResetTransactionHook, PostConnectionHook {
    static final String PID = "org.postern.smtp.plugin.logging.adaptive";
    private static final Logger LOG = LoggerFactory.getLogger(LoggingAdaptive.class);
    private static final NoteKey<SessionLog> SESSION_LOG = NoteKey.of("logging/adaptive.lines", SessionLog.class);
    /** What a kept line costs at least, in characters: its record and its place in the queue take memory too. */
    private static final int LINE_COST_FLOOR = 100;
    private static final int DEFAULT_MAX_KEPT_CHARS = 32_768;

    @ObjectClassDefinition(name = "Postern plugin: logging/adaptive",
            description = "Writes a session's log lines in full only when something in it was denied")
    public @interface Config {
        @AttributeDefinition(description = "The least severe level written for a transaction without a denial: "
                + "0 (LOGEMERG) to 7 (LOGDEBUG), or a name such as LOGERROR")
        String accept() default "LOGERROR";

        @AttributeDefinition(description = "The least severe level kept, and written once the session saw a denial")
        String reject() default "LOGWARN";

        @AttributeDefinition(description = "Marks the lines written without a denial, after the session id")
        String prefix() default "`";

        @AttributeDefinition(description = "Characters of log lines kept per session before a denial (a line counts "
                + "at least 100); beyond it the oldest lines go")
        int max__kept__chars() default DEFAULT_MAX_KEPT_CHARS;
    }

    /** A line as it will be written, and whether the {@code accept} level lets it through. */
    private record Line(LogLevel level, boolean atAcceptLevel, String text) {
        int cost() {
            return Math.max(LINE_COST_FLOOR, text.length());
        }
    }

    /** A session's kept lines and what became of the session; its monitor guards it all. */
    private static final class SessionLog {
        private final Deque<Line> kept = new ArrayDeque<>();
        private long keptChars;
        private int dropped;
        private boolean denied;
        private boolean ended;

        void keep(Line line, int maxKeptChars) {
            if (line.cost() > maxKeptChars) {
                dropped++;
                return;
            }
            while (keptChars + line.cost() > maxKeptChars) {
                keptChars -= kept.removeFirst().cost();
                dropped++;
            }
            kept.addLast(line);
            keptChars += line.cost();
        }

        void clear() {
            kept.clear();
            keptChars = 0;
            dropped = 0;
        }
    }

    private final LogLevel acceptLevel;
    private final LogLevel rejectLevel;
    private final String prefix;
    private final int maxKeptChars;
    private final BiConsumer<LogLevel, String> serverLog;

    @Activate
    public LoggingAdaptive(Config config) {
        this(config, (level, text) -> LOG.atLevel(level.slf4jLevel()).log(text));
    }

    LoggingAdaptive(Config config, BiConsumer<LogLevel, String> serverLog) {
        this.serverLog = serverLog;
        this.acceptLevel = loglevel("accept", config.accept(), LogLevel.ERROR);
        this.rejectLevel = loglevel("reject", config.reject(), LogLevel.WARN);
        this.prefix = config.prefix().isEmpty() ? "`" : config.prefix();
        this.maxKeptChars = maxKeptChars(config.max__kept__chars());
    }

    @Override
    public HookResult onLogging(LoggingContext ctx) {
        if (ctx.level().compareTo(rejectLevel) < 0) {
            return HookResult.ok();
        }
        String origin = !ctx.pluginName().isEmpty() ? " " + ctx.pluginName() + " plugin:"
                : !ctx.hookName().isEmpty() ? " running plugin (" + ctx.hookName() + "):" : "";
        Line line = new Line(ctx.level(), ctx.level().compareTo(acceptLevel) >= 0, origin + " " + ctx.text());
        SessionLog log = sessionLog(ctx);
        synchronized (log) {
            if (log.denied) {
                write(ctx, line, "");
            } else if (log.ended) {
                writeIfAccepted(ctx, line);
            } else {
                log.keep(line, maxKeptChars);
            }
        }
        return HookResult.ok();
    }

    @Override
    public HookResult onDeny(ResultContext ctx) {
        SessionLog log = sessionLog(ctx);
        synchronized (log) {
            if (!log.denied) {
                log.denied = true;
                if (log.dropped > 0) {
                    serverLog.accept(LogLevel.WARN, ctx.session().id() + " " + log.dropped
                            + " earlier lines not kept (max_kept_chars " + maxKeptChars + ")");
                }
                log.kept.forEach(line -> write(ctx, line, ""));
                log.clear();
            }
        }
        return HookResult.declined();
    }

    @Override
    public HookResult onResetTransaction(HookContext ctx) {
        settle(ctx, false);
        return HookResult.declined();
    }

    @Override
    public HookResult onPostConnection(HookContext ctx) {
        settle(ctx, true);
        return HookResult.declined();
    }

    /** A transaction or the session ended: without a denial, its lines at the accept level are written. */
    private void settle(HookContext ctx, boolean sessionEnded) {
        SessionLog log = sessionLog(ctx);
        synchronized (log) {
            if (!log.denied) {
                log.kept.forEach(line -> writeIfAccepted(ctx, line));
            }
            log.clear();
            log.ended |= sessionEnded;
        }
    }

    private SessionLog sessionLog(HookContext ctx) {
        // the logging thread and a session's hook thread may both come first
        synchronized (this) {
            return ctx.session().notes().get(SESSION_LOG).orElseGet(() -> {
                SessionLog created = new SessionLog();
                ctx.session().notes().put(SESSION_LOG, created);
                return created;
            });
        }
    }

    private void writeIfAccepted(HookContext ctx, Line line) {
        if (line.atAcceptLevel()) {
            write(ctx, line, " " + prefix);
        }
    }

    private void write(HookContext ctx, Line line, String mark) {
        serverLog.accept(line.level(), ctx.session().id() + mark + line.text());
    }


    private static int maxKeptChars(int configured) {
        if (configured < LINE_COST_FLOOR) {
            LOG.error("configuration {}: key 'max_kept_chars': {} is below {}; {} it is", PID, configured, LINE_COST_FLOOR,
                    DEFAULT_MAX_KEPT_CHARS);
            return DEFAULT_MAX_KEPT_CHARS;
        }
        return configured;
    }

    /** qpsmtpd's {@code accept} and {@code reject}: a level's number or name. */
    private static LogLevel loglevel(String key, String value, LogLevel fallback) {
        return LogLevel.parse(value).orElseGet(() -> {
            LOG.error("configuration {}: key '{}': '{}' is no level (0-7 or a name such as LOGWARN); LOG{} it is", PID, key, value,
                    fallback);
            return fallback;
        });
    }
}
