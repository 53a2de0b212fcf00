package org.postern.smtp.plugin.loadcheck.internal;

import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.ConnectHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code loadcheck}: while the system's one-minute load average is above {@code max_load}, new
 * connections get {@code 450 Server load too high, please try again later.} instead of the greeting and are
 * closed. The load is read at most once every {@code cache_time} seconds, from the operating system through the
 * JVM (on Linux, {@code /proc/loadavg}), which is cheap and never waits.
 */
@Component(service = ConnectHook.class, configurationPid = Loadcheck.PID)
@Designate(ocd = Loadcheck.Config.class)
@PosternPlugin("loadcheck")
@PosternHook("connect")
@HookOrder(20)
public final class Loadcheck implements ConnectHook {
    static final String PID = "org.postern.smtp.plugin.loadcheck";
    static final String REFUSAL = "Server load too high, please try again later.";
    private static final double DEFAULT_MAX_LOAD = 7;
    private static final int DEFAULT_CACHE_TIME = 10;
    private static final Logger LOG = LoggerFactory.getLogger(Loadcheck.class);

    @ObjectClassDefinition(name = "Postern plugin: loadcheck",
            description = "Turns connections away while the system load is above a limit (qpsmtpd's loadcheck)")
    public @interface Config {
        @AttributeDefinition(name = "max_load", description = "The one-minute load average above which connections "
                + "are turned away; 0 means the default, as in qpsmtpd")
        double max__load() default DEFAULT_MAX_LOAD;

        @AttributeDefinition(name = "cache_time", description = "Seconds a load reading is used for; 0 means the default, "
                + "as in qpsmtpd, and a negative number reads the load for every connection")
        int cache__time() default DEFAULT_CACHE_TIME;
    }

    /** A load average and when it was read, in {@link System#nanoTime()} terms; replaced whole, so never torn. */
    private record Reading(double load, long readAt) {
    }

    private final double maxLoad;
    private final long cacheNanos;
    private final DoubleSupplier loadAverage;
    private final LongSupplier nanoClock;
    private volatile Reading last;

    @Activate
    public Loadcheck(Config config) {
        this(config, ManagementFactory.getOperatingSystemMXBean()::getSystemLoadAverage, System::nanoTime);
    }

    Loadcheck(Config config, DoubleSupplier loadAverage, LongSupplier nanoClock) {
        // qpsmtpd's "||=": a zero (or absent) option is the default
        this.maxLoad = config.max__load() != 0 ? config.max__load() : DEFAULT_MAX_LOAD;
        this.cacheNanos = TimeUnit.SECONDS.toNanos(config.cache__time() != 0 ? config.cache__time() : DEFAULT_CACHE_TIME);
        this.loadAverage = loadAverage;
        this.nanoClock = nanoClock;
        if (loadAverage.getAsDouble() < 0) {
            LOG.error("unable to acquire system load: this JVM cannot read the load average here; loadcheck lets every connection in");
        }
    }

    @Override
    public HookResult onConnect(HookContext ctx) {
        double load = currentLoad();
        if (load < 0) {
            return HookResult.declined();
        }
        String shown = String.format(Locale.ROOT, "%.2f", load);
        if (load > maxLoad) {
            ctx.log(LogLevel.ERROR, "local load too high: " + shown);
            // RFC 3463's "system not accepting network messages" rather than the core's policy code for a refusal
            return HookResult.denySoft(REFUSAL).withEnhancedStatus("4.3.2");
        }
        ctx.log(LogLevel.DEBUG, "continuing with load: " + shown);
        return HookResult.declined();
    }

    private double currentLoad() {
        long now = nanoClock.getAsLong();
        Reading reading = last;
        if (reading == null || now - reading.readAt() > cacheNanos) {
            reading = new Reading(loadAverage.getAsDouble(), now);
            last = reading;
        }
        return reading.load();
    }
}
