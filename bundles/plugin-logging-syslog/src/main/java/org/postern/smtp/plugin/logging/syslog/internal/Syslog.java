package org.postern.smtp.plugin.logging.syslog.internal;

import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
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
 * qpsmtpd's {@code logging/syslog}: each line at {@code loglevel} or more severe becomes an RFC 5424 message to a
 * syslog receiver, at the syslog severity of its level (or the fixed {@code priority}). It declines, as qpsmtpd's
 * does, so later logging plugins and the server log get the line too.
 */
@Component(service = LoggingHook.class, configurationPid = Syslog.PID)
@Designate(ocd = Syslog.Config.class)
@PosternPlugin("logging/syslog")
@PosternHook("logging")
@HookOrder(100)
public final class Syslog implements LoggingHook {
    static final String PID = "org.postern.smtp.plugin.logging.syslog";
    private static final Logger LOG = LoggerFactory.getLogger(Syslog.class);
    private static final Map<String, Integer> FACILITIES = Map.ofEntries(
            Map.entry("KERN", 0), Map.entry("USER", 1), Map.entry("MAIL", 2), Map.entry("DAEMON", 3),
            Map.entry("AUTH", 4), Map.entry("SYSLOG", 5), Map.entry("LPR", 6), Map.entry("NEWS", 7),
            Map.entry("UUCP", 8), Map.entry("CRON", 9), Map.entry("AUTHPRIV", 10), Map.entry("FTP", 11),
            Map.entry("LOCAL0", 16), Map.entry("LOCAL1", 17), Map.entry("LOCAL2", 18), Map.entry("LOCAL3", 19),
            Map.entry("LOCAL4", 20), Map.entry("LOCAL5", 21), Map.entry("LOCAL6", 22), Map.entry("LOCAL7", 23));
    private static final int DEFAULT_PORT = 514;
    private static final double DEFAULT_TIMEOUT = 1;

    @ObjectClassDefinition(name = "Postern plugin: logging/syslog",
            description = "Sends log lines to a syslog receiver as RFC 5424 messages over UDP or TCP")
    public @interface Config {
        @AttributeDefinition(description = "Lines at this level and more severe are sent: LOGDEBUG … LOGEMERG, or 7 … 0")
        String loglevel() default "LOGWARN";

        @AttributeDefinition(description = "A fixed syslog severity for every line (LOG_NOTICE, or 0-7); empty: each line's own")
        String priority() default "";

        @AttributeDefinition(description = "APP-NAME of the messages (letters, digits, _ - .)")
        String ident() default "qpsmtpd";

        @AttributeDefinition(description = "syslog facility: LOG_MAIL, LOG_LOCAL0 … (with or without LOG_)")
        String facility() default "LOG_MAIL";

        @AttributeDefinition(description = "Transport: udp or tcp; a comma list takes the first of these")
        String logsock() default "udp";

        @AttributeDefinition(description = "The receiver's host name or address")
        String host() default "127.0.0.1";

        @AttributeDefinition(description = "The receiver's port")
        int port() default DEFAULT_PORT;

        @AttributeDefinition(description = "Seconds a TCP connection or write may take before the message is dropped")
        double timeout() default DEFAULT_TIMEOUT;
    }

    private final LogLevel threshold;
    private final Optional<LogLevel> fixedSeverity;
    private final String appName;
    private final int facility;
    private final String procId = Long.toString(ProcessHandle.current().pid());
    private final Supplier<OffsetDateTime> clock;
    private final SyslogSender sender;
    /** The config item {@code me}, asked at the first line: later lines need no config lookup. */
    private volatile String hostName;

    @Activate
    public Syslog(Config config) {
        this(config, OffsetDateTime::now);
    }

    Syslog(Config config, Supplier<OffsetDateTime> clock) {
        this.clock = clock;
        this.threshold = loglevel(config.loglevel());
        this.fixedSeverity = priority(config.priority());
        this.appName = appName(config.ident());
        this.facility = facility(config.facility());
        this.sender = new SyslogSender(connection(config), System::currentTimeMillis);
    }

    @Deactivate
    void close() {
        sender.close();
    }

    /** Messages dropped so far, for tests. */
    long dropped() {
        return sender.dropped();
    }

    @Override
    public HookResult onLogging(LoggingContext ctx) {
        if (ctx.level().compareTo(threshold) >= 0) {
            sender.offer(message(ctx, facility * 8 + fixedSeverity.orElse(ctx.level()).qpsmtpdNumber()));
        }
        return HookResult.declined();
    }

    /** RFC 5424 6: {@code <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG}. */
    private String message(LoggingContext ctx, int priority) {
        String timestamp = clock.get().truncatedTo(ChronoUnit.MILLIS).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        return "<" + priority + ">1 " + timestamp + " " + hostName(ctx) + " " + appName + " " + procId + " - - "
                + "session " + ctx.session().id()
                + (ctx.pluginName().isEmpty() ? "" : " [" + ctx.pluginName() + " " + ctx.hookName() + "]")
                + ": " + ctx.text();
    }

    private String hostName(LoggingContext ctx) {
        String name = hostName;
        if (name == null) {
            name = headerField(ctx.config("me", "-"), 255);
            hostName = name;
        }
        return name;
    }

    private static LogLevel loglevel(String value) {
        return level(value).orElseGet(() -> {
            LOG.error("configuration {}: key 'loglevel': '{}' is no level (LOGWARN, LOG_WARNING … or a number); LOGWARN taken",
                    PID, value);
            return LogLevel.WARN;
        });
    }

    private static Optional<LogLevel> priority(String value) {
        if (value.isBlank()) {
            return Optional.empty();
        }
        Optional<LogLevel> level = level(value);
        if (level.isEmpty()) {
            LOG.error("configuration {}: key 'priority': '{}' is no severity (LOG_NOTICE … or 0-7); each line's own taken",
                    PID, value);
        }
        return level;
    }

    /** qpsmtpd's level names and numbers, and syslog(3)'s priority names, which spell qpsmtpd's LOGERROR as LOG_ERR. */
    private static Optional<LogLevel> level(String value) {
        return LogLevel.parse(value.strip().replaceFirst("(?i)^(LOG_?)?ERR$", "ERROR"));
    }

    private static int facility(String value) {
        Integer number = FACILITIES.get(value.strip().toUpperCase(Locale.ROOT).replaceFirst("^LOG_", ""));
        if (number == null) {
            LOG.error("configuration {}: key 'facility': '{}' is no syslog facility; LOG_MAIL taken", PID, value);
            return FACILITIES.get("MAIL");
        }
        return number;
    }

    /** qpsmtpd takes an ident of word characters, dashes and dots, else keeps its own. */
    private static String appName(String ident) {
        if (ident.matches("[\\w.-]+")) {
            return headerField(ident, 48);
        }
        LOG.error("configuration {}: key 'ident': '{}' has characters other than letters, digits, _ - .; qpsmtpd taken",
                PID, ident);
        return "qpsmtpd";
    }

    /** RFC 5424 header fields are printable US-ASCII without spaces, of limited length, or "-". */
    private static String headerField(String value, int maxLength) {
        String printable = value.replaceAll("[^\\x21-\\x7e]", "");
        if (printable.isEmpty()) {
            return "-";
        }
        return printable.length() > maxLength ? printable.substring(0, maxLength) : printable;
    }

    private static SyslogConnection connection(Config config) {
        int port = config.port();
        if (port < 1 || port > 65535) {
            LOG.error("configuration {}: key 'port': {} is no port; {} taken", PID, port, DEFAULT_PORT);
            port = DEFAULT_PORT;
        }
        if (!tcp(config.logsock())) {
            return new UdpConnection(config.host(), port);
        }
        double timeout = config.timeout();
        if (!(timeout > 0 && timeout <= 60)) {
            LOG.error("configuration {}: key 'timeout': {} is not between 0 and 60 seconds; {} taken", PID, timeout,
                    DEFAULT_TIMEOUT);
            timeout = DEFAULT_TIMEOUT;
        }
        return new TcpConnection(config.host(), port, Math.max(1, Math.round(timeout * 1000)));
    }

    /** qpsmtpd's logsock lists Sys::Syslog's transports in order of preference; Postern has udp and tcp. */
    private static boolean tcp(String logsock) {
        for (String kind : logsock.split(",")) {
            switch (kind.strip().toLowerCase(Locale.ROOT)) {
                case "udp":
                    return false;
                case "tcp":
                    return true;
                default:
                    break;
            }
        }
        LOG.error("configuration {}: key 'logsock': '{}' names neither udp nor tcp; udp taken", PID, logsock);
        return false;
    }
}
