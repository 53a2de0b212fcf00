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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
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
 * The renames happen only once the core confirms it still awaits the answer ({@link HookContext#commit()}),
 * so a call that timed out never delivers a copy the client will send again; with a folder per recipient,
 * every copy is moved or none. On any I/O failure the partial files are removed and the client gets a
 * temporary failure.
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
    private static final Duration STALE_TMP_FILE = Duration.ofHours(36);

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
    /** Maildirs whose folders exist (and were flushed): checked once, not per message. */
    private final Set<Path> ready = ConcurrentHashMap.newKeySet();

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
        List<Path> prepared = new ArrayList<>();
        try {
            String sender = ctx.transaction().sender().map(Address::format).orElse("<>");
            List<Recipient> recipients = ctx.transaction().recipients();
            List<Path> folders = new ArrayList<>();
            if (subdirs.isEmpty()) {
                StringBuilder trace = new StringBuilder("Return-Path: ").append(sender).append('\n');
                recipients.forEach(r -> trace.append("Delivered-To: ").append(r.address().address()).append('\n'));
                folders.add(maildir);
                prepared.add(prepare(maildir, trace.toString(), ctx));
            } else {
                for (Recipient recipient : recipients) {
                    Path folder = folderFor(maildir, subdirs, recipient.address());
                    folders.add(folder);
                    prepared.add(prepare(folder, "Return-Path: " + sender + "\nDelivered-To: " + recipient.address().address() + "\n", ctx));
                }
            }
            if (!ctx.commit()) {
                LOG.warn("session {}: message not moved into the Maildir: the server stopped waiting for it", ctx.session().id());
                return queueError();
            }
            return HookResult.ok("Queued as " + moveIntoNew(prepared, folders));
        } catch (IOException | RuntimeException e) {
            LOG.error("session {}: Maildir delivery failed", ctx.session().id(), e);
            return queueError();
        } finally {
            for (Path file : prepared) {
                deleteQuietly(file);
            }
        }
    }

    private static HookResult queueError() {
        return HookResult.denySoft("Queue error, please try again later").withReplyCode(451).withEnhancedStatus("4.3.0");
    }

    /** Writes the message into the folder's {@code tmp/}, flushed to disk; returns the file. */
    private Path prepare(Path folder, String trace, HookContext ctx) throws IOException {
        ensureMaildir(folder);
        Path file = folder.resolve("tmp").resolve(uniqueName());
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                OutputStream out = Channels.newOutputStream(channel);
                InputStream message = ctx.transaction().message()) {
            out.write(trace.getBytes(StandardCharsets.UTF_8));
            copyWithUnixLineEndings(message, out);
            out.flush();
            if (fsync) {
                channel.force(true);
            }
        } catch (IOException | RuntimeException e) {
            deleteQuietly(file);
            ready.remove(folder);
            throw e;
        }
        return file;
    }

    /**
     * Renames every prepared file into its {@code new/}: all of them, or, when one rename fails, none (those
     * already moved are taken back), so a retry never delivers twice to some recipients.
     */
    private String moveIntoNew(List<Path> prepared, List<Path> folders) throws IOException {
        List<Path> moved = new ArrayList<>();
        try {
            for (int i = 0; i < prepared.size(); i++) {
                Path target = folders.get(i).resolve("new").resolve(prepared.get(i).getFileName());
                try {
                    Files.move(prepared.get(i), target, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    throw new IOException("the Maildir's tmp and new folders must be on one file system", e);
                }
                moved.add(target);
            }
            if (fsync) {
                for (Path folder : new LinkedHashSet<>(folders)) {
                    forceFolder(folder.resolve("new"));
                }
            }
        } catch (IOException | RuntimeException e) {
            for (Path target : moved) {
                deleteQuietly(target);
            }
            throw e;
        }
        return moved.get(moved.size() - 1).getFileName().toString();
    }

    /**
     * Creates the Maildir's folders once; with fsync, every folder that got a new entry is flushed, up to the
     * first one that existed before, so a crash cannot lose the folders a delivery was written into.
     */
    private void ensureMaildir(Path folder) throws IOException {
        if (ready.contains(folder)) {
            return;
        }
        Path existed = folder;
        while (existed != null && !Files.isDirectory(existed)) {
            existed = existed.getParent();
        }
        for (String sub : List.of("tmp", "new", "cur")) {
            Files.createDirectories(folder.resolve(sub));
        }
        deleteStaleTmpFiles(folder.resolve("tmp"));
        if (fsync) {
            for (Path created = folder; created != null; created = created.getParent()) {
                forceFolder(created);
                if (created.equals(existed)) {
                    break;
                }
            }
        }
        ready.add(folder);
    }

    /**
     * A crash while a message was written (the client got no 250) leaves it in {@code tmp/}; the Maildir convention
     * lets a file there go after 36 hours, by which time no writer still holds it.
     */
    private static void deleteStaleTmpFiles(Path tmp) throws IOException {
        Instant stale = Instant.now().minus(STALE_TMP_FILE);
        try (Stream<Path> files = Files.list(tmp)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(file) && Files.getLastModifiedTime(file).toInstant().isBefore(stale)) {
                    LOG.info("deleting {}, left in tmp/ for more than 36 hours", file);
                    deleteQuietly(file);
                }
            }
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", file, e.toString());
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

    /** The recipient's Maildir under the template; refused if the template would lead out of the Maildir. */
    static Path folderFor(Path maildir, String template, Address recipient) {
        Path folder = maildir.resolve(expand(template, recipient)).normalize();
        if (!folder.startsWith(maildir.normalize())) {
            throw new IllegalArgumentException("subdirs '" + template + "' leads out of the Maildir for " + recipient);
        }
        return folder;
    }

    /**
     * Expands %l, %d, %u and %% with the recipient. Characters unsafe in a path become '_', and so does a
     * leading dot: a local part such as "." or ".." (legal when quoted) then names an ordinary folder instead
     * of failing every delivery attempt, and ".name" cannot become a Maildir++ sub folder.
     */
    static String expand(String template, Address recipient) {
        String safeLocal = safeName(recipient.user());
        String safeDomain = safeName(recipient.normalizedHost().orElse(""));
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
        return path.toString();
    }

    private static String safeName(String text) {
        String safe = text.replaceAll("[^-A-Za-z0-9+_.,@=]", "_");
        return safe.startsWith(".") ? "_" + safe.substring(1) : safe;
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
