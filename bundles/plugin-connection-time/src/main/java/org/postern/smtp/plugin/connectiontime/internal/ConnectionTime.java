package org.postern.smtp.plugin.connectiontime.internal;

import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.ConnectHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.PostConnectionHook;
import org.postern.smtp.api.PreConnectionContext;
import org.postern.smtp.api.PreConnectionHook;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code connection_time}: notes when a connection starts ({@code pre_connection}, or {@code connect}
 * when an earlier plugin ended the pre_connection chain) and logs how long it lasted at {@code post_connection},
 * the last hook of every connection however it ended.
 */
@Component(service = {PreConnectionHook.class, ConnectHook.class, PostConnectionHook.class},
        configurationPid = ConnectionTime.PID)
@Designate(ocd = ConnectionTime.Config.class)
@PosternPlugin("connection_time")
@PosternHook({"pre_connection", "connect", "post_connection"})
@HookOrder(10)
public final class ConnectionTime implements PreConnectionHook, ConnectHook, PostConnectionHook {
    static final String PID = "org.postern.smtp.plugin.connection_time";
    /** Connection note: {@link System#nanoTime()} when the connection started. */
    static final NoteKey<Long> STARTED = NoteKey.of("connection_time.started", Long.class);
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionTime.class);
    private static final Pattern SHIFT = Pattern.compile("([+-])([0-9])");

    @ObjectClassDefinition(name = "Postern plugin: connection_time", description = "Logs how long each connection lasted")
    public @interface Config {
        @AttributeDefinition(description = "qpsmtpd's loglevel: the level of this plugin's lines, 0 (emerg) to 7 (debug) "
                + "or a name such as info; or +N / -N to move each line N levels towards debug / emerg. Empty: as written")
        String loglevel() default "";
    }

    private final LongSupplier nanoClock;
    private final UnaryOperator<LogLevel> levels;

    @Activate
    public ConnectionTime(Config config) {
        this(config, System::nanoTime);
    }

    ConnectionTime(Config config, LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.levels = levels(config.loglevel().strip());
    }

    @Override
    public HookResult onPreConnection(PreConnectionContext ctx) {
        start(ctx);
        return HookResult.declined();
    }

    @Override
    public HookResult onConnect(HookContext ctx) {
        if (ctx.session().notes().get(STARTED).isEmpty()) {
            start(ctx);
        }
        return HookResult.declined();
    }

    @Override
    public HookResult onPostConnection(HookContext ctx) {
        Optional<Long> started = ctx.session().notes().get(STARTED);
        if (started.isEmpty()) {
            log(ctx, LogLevel.ERROR, "Start time not set?!");
        } else {
            double seconds = (nanoClock.getAsLong() - started.get()) / 1e9;
            log(ctx, LogLevel.INFO, String.format(Locale.ROOT, "%.3f s.", seconds));
        }
        return HookResult.declined();
    }

    private void start(HookContext ctx) {
        ctx.session().notes().put(STARTED, nanoClock.getAsLong());
        log(ctx, LogLevel.DEBUG, "started at " + Instant.now());
    }

    private void log(HookContext ctx, LogLevel level, String text) {
        ctx.log(levels.apply(level), text);
    }

    /**
     * qpsmtpd's {@code adjust_log_level}: a level (its number, 7 = debug … 0 = emerg, or its name, with or
     * without {@code LOG}) replaces each line's level; {@code +N} and {@code -N} move it, within debug and emerg.
     */
    private static UnaryOperator<LogLevel> levels(String loglevel) {
        if (loglevel.isEmpty()) {
            return UnaryOperator.identity();
        }
        if (loglevel.matches("[0-7]")) {
            LogLevel fixed = ofQpsmtpdNumber(Integer.parseInt(loglevel));
            return level -> fixed;
        }
        Matcher shift = SHIFT.matcher(loglevel);
        if (shift.matches()) {
            int towardsDebug = Integer.parseInt(shift.group(2)) * (shift.group(1).equals("+") ? 1 : -1);
            return level -> ofQpsmtpdNumber(qpsmtpdNumber(level) + towardsDebug);
        }
        String name = loglevel.toUpperCase(Locale.ROOT).replaceFirst("^LOG", "");
        for (LogLevel fixed : LogLevel.values()) {
            if (fixed.name().equals(name)) {
                return level -> fixed;
            }
        }
        LOG.error("configuration {}: key 'loglevel': '{}' is no level (0-7 or a name) nor +N or -N; ignored", PID, loglevel);
        return UnaryOperator.identity();
    }

    /** qpsmtpd numbers its levels from 0 (emerg) to 7 (debug), the reverse of LogLevel's order. */
    private static int qpsmtpdNumber(LogLevel level) {
        return LogLevel.EMERG.ordinal() - level.ordinal();
    }

    private static LogLevel ofQpsmtpdNumber(int number) {
        int withinRange = Math.max(0, Math.min(LogLevel.EMERG.ordinal(), number));
        return LogLevel.values()[LogLevel.EMERG.ordinal() - withinRange];
    }
}
