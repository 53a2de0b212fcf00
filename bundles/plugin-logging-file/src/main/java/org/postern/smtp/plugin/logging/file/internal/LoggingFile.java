package org.postern.smtp.plugin.logging.file.internal;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.concurrent.atomic.AtomicInteger;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.LoggingContext;
import org.postern.smtp.api.LoggingHook;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.Notes;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code logging/file}: appends each line at {@code loglevel} or more severe to a file, or to the input
 * of a command ({@code |command}), whose name may hold strftime conversions and {@code %i} (the session id). The
 * output stays open and is reopened when its name changes, and once per session with {@code reopen}. It declines
 * each line, as qpsmtpd's does, so later logging plugins and other instances see it too.
 */
@Component(service = LoggingHook.class, configurationPid = LoggingFile.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = LoggingFile.Config.class, factory = true)
@PosternPlugin("logging/file")
@PosternHook("logging")
@HookOrder(100)
public final class LoggingFile implements LoggingHook {
    static final String PID = "org.postern.smtp.plugin.logging.file";
    private static final Logger LOG = LoggerFactory.getLogger(LoggingFile.class);
    /** Tells the session notes of several instances apart, as two instances may write two files for one session. */
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    @ObjectClassDefinition(name = "Postern plugin: logging/file", description = "Writes log lines to a file or a command")
    public @interface Config {
        @AttributeDefinition(description = "The file, appended to and created when missing, or |command to write to "
                + "a command's input; strftime conversions (%Y-%m-%d …) and %i (the session id) are filled in")
        String path() default "";

        @AttributeDefinition(description = "The least severe level written: 0 (LOGEMERG) to 7 (LOGDEBUG), or a name such as LOGINFO")
        String loglevel() default "LOGWARN";

        @AttributeDefinition(description = "Reopen the output once per session, at its first line")
        boolean reopen() default false;

        @AttributeDefinition(description = "Choose the output once per session, at its first line, so a session is never split")
        boolean nosplit() default false;

        @AttributeDefinition(description = "strftime format of each line's time stamp")
        String tsformat() default "%a %b %d %T %Y";
    }

    private final String outputFormat;
    private final boolean command;
    private final LogLevel loglevel;
    private final boolean reopen;
    private final boolean nosplit;
    private final String tsformat;
    private final Clock clock;
    private final String hostname;
    /** The output chosen at the session's first line, kept with {@code nosplit}. */
    private final NoteKey<String> sessionOutput;
    private final NoteKey<Boolean> reopenedThisSession;
    private Writer out;
    private String currentOutput = "";
    private String failedOutput = "";

    @Activate
    public LoggingFile(Config config) {
        this(config, Clock.systemDefaultZone());
    }

    LoggingFile(Config config, Clock clock) {
        String path = config.path().strip();
        this.command = path.startsWith("|");
        this.outputFormat = command ? path.substring(1).strip() : path;
        this.loglevel = loglevel(config.loglevel());
        this.reopen = config.reopen();
        this.nosplit = config.nosplit();
        this.tsformat = config.tsformat();
        this.clock = clock;
        this.hostname = hostname();
        String instance = "logging/file#" + INSTANCES.incrementAndGet();
        this.sessionOutput = NoteKey.of(instance + ".output", String.class);
        this.reopenedThisSession = NoteKey.of(instance + ".reopened", Boolean.class);
        if (outputFormat.isEmpty()) {
            LOG.error("configuration {}: key 'path' is empty: a file or |command is needed; nothing is logged", PID);
        }
    }

    @Override
    public synchronized HookResult onLogging(LoggingContext ctx) {
        if (ctx.level().compareTo(loglevel) < 0 || outputFormat.isEmpty()) {
            return HookResult.declined();
        }
        ZonedDateTime now = ZonedDateTime.now(clock);
        Notes notes = ctx.session().notes();
        String output = nosplit ? notes.get(sessionOutput).orElseGet(() -> output(ctx, now)) : output(ctx, now);
        boolean reopenForSession = reopen && !notes.get(reopenedThisSession).orElse(false);
        if (out == null || !output.equals(currentOutput) || reopenForSession) {
            if (!open(output)) {
                return HookResult.declined();
            }
            notes.put(reopenedThisSession, true);
        }
        if (nosplit) {
            notes.put(sessionOutput, output);
        }
        try {
            out.write(Strftime.format(tsformat, now) + " " + hostname + "[" + ctx.session().id() + "]: " + ctx.text() + "\n");
            out.flush();
        } catch (IOException e) {
            // a command that exited, a full disk: the next line opens the output again
            LOG.error("logging/file: cannot write to {}: {}", currentOutput, e.toString());
            close();
        }
        return HookResult.declined();
    }

    private String output(LoggingContext ctx, ZonedDateTime now) {
        return Strftime.format(outputFormat.replace("%i", ctx.session().id()), now);
    }

    /** Closes the current output and opens this one; false when it cannot be opened. */
    private boolean open(String output) {
        close();
        try {
            out = command ? start(output) : Files.newBufferedWriter(Path.of(output), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException | RuntimeException e) {
            // each line tries again; one complaint per output is enough
            if (!output.equals(failedOutput)) {
                LOG.error("logging/file: error opening log output to {} {}: {}", command ? "command" : "path", output, e.toString());
                failedOutput = output;
            }
            return false;
        }
        currentOutput = output;
        failedOutput = "";
        return true;
    }

    /** The command through the shell, as qpsmtpd's {@code |command} is; it ends when its input closes. */
    private static Writer start(String commandLine) throws IOException {
        Process process = new ProcessBuilder("/bin/sh", "-c", commandLine)
                .redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        return new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
    }

    @Deactivate
    synchronized void close() {
        if (out == null) {
            return;
        }
        try {
            out.close();
        } catch (IOException e) {
            LOG.warn("logging/file: closing {}: {}", currentOutput, e.toString());
        }
        out = null;
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    /** qpsmtpd's {@code loglevel} argument; a value that is no level leaves LOGWARN. */
    private static LogLevel loglevel(String value) {
        return LogLevel.parse(value).orElseGet(() -> {
            LOG.error("configuration {}: key 'loglevel': '{}' is no level (0-7 or a name such as LOGINFO); LOGWARN it is", PID, value);
            return LogLevel.WARN;
        });
    }
}
