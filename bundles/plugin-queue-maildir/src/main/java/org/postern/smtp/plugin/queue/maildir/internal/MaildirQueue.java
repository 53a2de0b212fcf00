package org.postern.smtp.plugin.queue.maildir.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.QueueHook;
import org.postern.smtp.api.Recipient;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers each accepted message into a Maildir: written to {@code tmp/}, flushed to disk, then renamed into
 * {@code new/} and the folder flushed too, so the 250 the client gets means the message survives a crash.
 * On any I/O failure the partial file is removed and the client gets a temporary failure.
 */
@Component(service = QueueHook.class, configurationPid = MaildirQueue.PID)
@Designate(ocd = MaildirQueue.Config.class)
@PosternPlugin("queue/maildir")
@PosternHook("queue")
@HookOrder(1000)
public final class MaildirQueue implements QueueHook {
    static final String PID = "org.postern.smtp.plugin.queue.maildir";
    private static final Logger LOG = LoggerFactory.getLogger(MaildirQueue.class);
    private static final AtomicLong COUNTER = new AtomicLong();

    @ObjectClassDefinition(name = "Postern plugin: queue/maildir")
    public @interface Config {
        @AttributeDefinition(description = "The Maildir; empty for <data folder>/maildir")
        String maildir() default "";

        @AttributeDefinition(description = "Per-recipient sub folder: %l local part, %d domain, %u address, %% a percent sign; empty for one shared Maildir")
        String subdirs() default "";

        @AttributeDefinition(description = "Flush each message and its folder to disk before answering 250")
        boolean fsync() default true;
    }

    private final Path maildir;
    private final String subdirs;
    private final boolean fsync;
    private final String hostname;

    @Activate
    public MaildirQueue(Config config, BundleContext context) {
        this(resolveMaildir(config.maildir(), context.getProperty("postern.data")), config.subdirs(), config.fsync());
    }

    MaildirQueue(Path maildir, String subdirs, boolean fsync) {
        this.maildir = maildir;
        this.subdirs = subdirs;
        this.fsync = fsync;
        this.hostname = localHostname();
        LOG.info("delivering into {}{}", maildir, subdirs.isEmpty() ? "" : "/" + subdirs);
    }

    @Override
    public HookResult onQueue(HookContext ctx) {
        try {
            String sender = ctx.transaction().sender().map(Address::format).orElse("<>");
            List<Recipient> recipients = ctx.transaction().recipients();
            if (subdirs.isEmpty()) {
                StringBuilder trace = new StringBuilder("Return-Path: ").append(sender).append('\n');
                recipients.forEach(r -> trace.append("Delivered-To: ").append(r.address().address()).append('\n'));
                String name = deliver(maildir, trace.toString(), ctx);
                return HookResult.ok("Queued as " + name);
            }
            String name = null;
            for (Recipient recipient : recipients) {
                Path folder = maildir.resolve(expand(subdirs, recipient.address()));
                name = deliver(folder, "Return-Path: " + sender + "\nDelivered-To: " + recipient.address().address() + "\n", ctx);
            }
            return HookResult.ok("Queued as " + name);
        } catch (IOException | RuntimeException e) {
            LOG.error("session {}: Maildir delivery failed", ctx.session().id(), e);
            return HookResult.denySoft("Queue error, please try again later").withReplyCode(451).withEnhancedStatus("4.3.0");
        }
    }

    private String deliver(Path folder, String trace, HookContext ctx) throws IOException {
        Path tmp = folder.resolve("tmp");
        Path fresh = folder.resolve("new");
        Files.createDirectories(tmp);
        Files.createDirectories(fresh);
        Files.createDirectories(folder.resolve("cur"));
        String name = uniqueName();
        Path file = tmp.resolve(name);
        try {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                    OutputStream out = Channels.newOutputStream(channel);
                    InputStream message = ctx.transaction().message()) {
                out.write(trace.getBytes(StandardCharsets.UTF_8));
                copyWithUnixLineEndings(message, out);
                out.flush();
                if (fsync) {
                    channel.force(true);
                }
            }
            try {
                Files.move(file, fresh.resolve(name), StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the Maildir's tmp and new folders must be on one file system", e);
            }
            if (fsync) {
                forceFolder(fresh);
            }
            return name;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Maildir files use LF line endings; the spool keeps the message as it came, with CRLF. */
    static void copyWithUnixLineEndings(InputStream in, OutputStream out) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        byte[] converted = new byte[buffer.length];
        boolean pendingCr = false;
        int read;
        while ((read = in.read(buffer)) > 0) {
            int length = 0;
            for (int i = 0; i < read; i++) {
                byte b = buffer[i];
                if (pendingCr && b != '\n') {
                    converted[length++] = '\r';
                }
                pendingCr = b == '\r';
                if (!pendingCr) {
                    converted[length++] = b;
                }
            }
            out.write(converted, 0, length);
        }
        if (pendingCr) {
            out.write('\r');
        }
    }

    private static void forceFolder(Path folder) throws IOException {
        try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    private String uniqueName() {
        long now = System.currentTimeMillis();
        return (now / 1000) + ".P" + ProcessHandle.current().pid() + "M" + (now % 1000) + "Q" + COUNTER.incrementAndGet() + "." + hostname;
    }

    /** Expands %l, %d, %u and %% with the recipient, after replacing characters unsafe in a path with '_'. */
    static String expand(String template, Address recipient) {
        String safeLocal = recipient.user().replaceAll("[^-A-Za-z0-9+_.,@=]", "_");
        String safeDomain = recipient.normalizedHost().orElse("").replaceAll("[^-A-Za-z0-9+_.,@=]", "_");
        String safeAddress = safeDomain.isEmpty() ? safeLocal : safeLocal + "@" + safeDomain;
        StringBuilder path = new StringBuilder();
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (c != '%' || i + 1 == template.length()) {
                path.append(c);
                continue;
            }
            char code = template.charAt(++i);
            switch (code) {
                case 'l' -> path.append(safeLocal);
                case 'd' -> path.append(safeDomain);
                case 'u' -> path.append(safeAddress);
                case '%' -> path.append('%');
                default -> path.append('%').append(code);
            }
        }
        String expanded = path.toString();
        if (expanded.contains("..")) {
            throw new IllegalArgumentException("recipient would escape the Maildir: " + recipient);
        }
        return expanded;
    }

    private static Path resolveMaildir(String configured, String dataFolder) {
        if (!configured.isBlank()) {
            return Path.of(configured);
        }
        return Path.of(dataFolder != null ? dataFolder : System.getProperty("java.io.tmpdir"), "maildir");
    }

    private static String localHostname() {
        try {
            return InetAddress.getLocalHost().getHostName().replaceAll("[/:]", "_");
        } catch (IOException e) {
            return "localhost";
        }
    }
}
