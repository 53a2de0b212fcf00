package org.postern.smtp.plugin.contentlog.internal;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.locks.ReentrantLock;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code content_log}: appends each message, header and body, to a file named by the day
 * ({@code YYYYMMDD}, local time), with Unix line endings, for debugging other plugins or keeping an archive.
 */
@Component(service = DataPostHook.class, configurationPid = ContentLog.PID)
@Designate(ocd = ContentLog.Config.class)
@PosternPlugin("content_log")
@PosternHook("data_post")
@HookOrder(100)
public final class ContentLog implements DataPostHook {
    static final String PID = "org.postern.smtp.plugin.content_log";
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyyMMdd");
    private static final Logger LOG = LoggerFactory.getLogger(ContentLog.class);

    @ObjectClassDefinition(name = "Postern plugin: content_log", description = "Writes each message to a log file per day")
    public @interface Config {
        @AttributeDefinition(description = "The folder of the daily files; empty for <data folder>/mail")
        String directory() default "";
    }

    private final Path directory;
    private final Clock clock;
    /** One message at a time, so that two sessions' messages never interleave in a file. */
    private final ReentrantLock writing = new ReentrantLock();

    @Activate
    public ContentLog(Config config, BundleContext context) {
        this(directory(config.directory(), context.getProperty("postern.data")), Clock.systemDefaultZone());
    }

    ContentLog(Path directory, Clock clock) {
        this.directory = directory;
        this.clock = clock;
        LOG.info("logging messages into {}", directory);
    }

    private static Path directory(String configured, String dataFolder) {
        if (!configured.isBlank()) {
            return Path.of(configured.strip());
        }
        return Path.of(dataFolder != null ? dataFolder : System.getProperty("java.io.tmpdir"), "mail");
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        Path file = directory.resolve(LocalDate.now(clock).format(DAY));
        writing.lock();
        try {
            Files.createDirectories(directory);
            append(ctx, file);
        } catch (IOException e) {
            ctx.log(LogLevel.ERROR, "Could not open log file.. continuing anyway: " + file + ": " + e);
            return HookResult.declined();
        } finally {
            writing.unlock();
        }
        ctx.log(LogLevel.DEBUG, "successfully saved message.. continuing: " + file);
        return HookResult.declined();
    }

    private static void append(HookContext ctx, Path file) throws IOException {
        try (InputStream message = ctx.transaction().message();
                OutputStream out = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND))) {
            copyWithUnixLineEndings(message, out);
        }
    }

    /** Copies in small pieces, turning each CRLF into LF as qpsmtpd stores messages; a lone CR or LF stays. */
    static void copyWithUnixLineEndings(InputStream in, OutputStream out) throws IOException {
        byte[] buffer = new byte[8192];
        boolean carriageReturnPending = false;
        for (int read = in.read(buffer); read != -1; read = in.read(buffer)) {
            for (int i = 0; i < read; i++) {
                byte octet = buffer[i];
                if (carriageReturnPending && octet != '\n') {
                    out.write('\r');
                }
                carriageReturnPending = octet == '\r';
                if (!carriageReturnPending) {
                    out.write(octet);
                }
            }
        }
        if (carriageReturnPending) {
            out.write('\r');
        }
    }
}
