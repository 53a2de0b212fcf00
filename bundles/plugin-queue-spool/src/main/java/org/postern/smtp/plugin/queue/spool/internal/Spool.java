package org.postern.smtp.plugin.queue.spool.internal;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.RecipientState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue on disk. Each message is two files in {@code active/}: {@code <id>.eml}, the message as it is to be
 * delivered, and {@code <id>.env}, its envelope and state ({@link EnvelopeFile}). Both are written in {@code tmp/},
 * flushed to disk, renamed into {@code active/} (the envelope last: its presence makes the message queued) and the
 * folder flushed, so a message the client was told is queued survives a crash. A changed envelope replaces the old
 * one the same way. A finished message loses its envelope first, then its content.
 *
 * <p>Blocking: every method does file I/O and runs on the engine's file executor, never on a hook thread.
 */
final class Spool {
    private static final Logger LOG = LoggerFactory.getLogger(Spool.class);
    /** A file in tmp/ is being written by nobody after this long: a crash left it, and no client got a 250 for it. */
    static final Duration STALE_TEMP_FILE = Duration.ofDays(1);
    private static final AtomicLong COUNTER = new AtomicLong();

    /** Writes a message's content. */
    @FunctionalInterface
    interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** The envelope of a message to queue. */
    record NewMessage(String sender, List<String> recipients, String heloName, Envelope.Body body) {
        NewMessage {
            recipients = List.copyOf(recipients);
        }
    }

    /** The caller's {@code commit} said no: nothing was queued. */
    static final class NotCommitted extends IOException {
        private static final long serialVersionUID = 1L;

        NotCommitted() {
            super("the server stopped waiting for the message; nothing queued");
        }
    }

    private final Path tmp;
    private final Path active;
    private final Path corrupt;
    private final Clock clock;

    Spool(Path dir, Clock clock) throws IOException {
        this.tmp = Files.createDirectories(dir.resolve("tmp"));
        this.active = Files.createDirectories(dir.resolve("active"));
        this.corrupt = dir.resolve("corrupt");
        this.clock = clock;
        force(dir);
    }

    /**
     * Queues a message: content and envelope written and flushed in tmp/, then, if {@code commit} agrees, moved into
     * active/ and the folder flushed. On any failure nothing is left behind and the exception says why.
     */
    QueuedMessage store(NewMessage message, Content content, BooleanSupplier commit) throws IOException {
        Path tmpContent = null;
        Path tmpEnvelope = null;
        Path movedContent = null;
        Path movedEnvelope = null;
        try {
            String id;
            while (true) {
                id = newId();
                try {
                    tmpContent = Files.createFile(tmp.resolve(id + ".eml"));
                    break;
                } catch (FileAlreadyExistsException taken) {
                    // another id, then
                }
            }
            long size;
            try (FileChannel channel = FileChannel.open(tmpContent, StandardOpenOption.WRITE);
                    OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024)) {
                content.writeTo(out);
                out.flush();
                channel.force(true);
                size = channel.size();
            }
            Instant now = clock.instant();
            QueuedMessage queued = new QueuedMessage(id, message.sender(), now, message.heloName(), message.body(), size, 0, now,
                    message.recipients().stream().map(RecipientState::pending).toList());
            tmpEnvelope = tmp.resolve(id + ".env");
            write(tmpEnvelope, EnvelopeFile.format(queued));
            if (!commit.getAsBoolean()) {
                throw new NotCommitted();
            }
            movedContent = move(tmpContent, active.resolve(id + ".eml"));
            movedEnvelope = move(tmpEnvelope, envelopeFile(id));
            force(active);
            return queued;
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmpContent);
            deleteQuietly(tmpEnvelope);
            deleteQuietly(movedEnvelope);
            deleteQuietly(movedContent);
            throw e;
        }
    }

    /** Replaces a message's envelope with this one, atomically. */
    void update(QueuedMessage message) throws IOException {
        Path next = tmp.resolve(message.id() + ".env." + COUNTER.incrementAndGet());
        try {
            write(next, EnvelopeFile.format(message));
            Files.move(next, envelopeFile(message.id()), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            deleteQuietly(next);
        }
        force(active);
    }

    /** Removes a message: its envelope first, so that a crash in between leaves only content, which recovery drops. */
    void remove(String id) throws IOException {
        Files.deleteIfExists(envelopeFile(id));
        Files.deleteIfExists(contentFile(id));
        force(active);
    }

    Path contentFile(String id) {
        return active.resolve(id + ".eml");
    }

    InputStream open(String id) throws IOException {
        return Files.newInputStream(contentFile(id));
    }

    /**
     * Every queued message, after a start: whatever a crash left is sorted out first. Files in tmp/ older than
     * {@link #STALE_TEMP_FILE} are deleted (no client got a 250 for them; younger ones are left, as a writer could
     * still hold them). Content without an envelope in active/ is deleted: it was never queued, or it was finished.
     * An envelope that cannot be read, or has no content, is moved to corrupt/ and logged, for a person to look at.
     */
    List<QueuedMessage> recover() throws IOException {
        Instant stale = clock.instant().minus(STALE_TEMP_FILE);
        for (Path file : list(tmp)) {
            if (Files.getLastModifiedTime(file).toInstant().isBefore(stale)) {
                LOG.info("deleting {}, left in tmp/ for more than a day", file);
                deleteQuietly(file);
            }
        }
        List<QueuedMessage> queued = new ArrayList<>();
        for (Path file : list(active)) {
            String name = file.getFileName().toString();
            if (name.endsWith(".eml") && !Files.exists(envelopeFile(idOf(name)))) {
                LOG.info("deleting {}: content without an envelope", file);
                deleteQuietly(file);
            } else if (name.endsWith(".env")) {
                String id = idOf(name);
                try {
                    if (!Files.exists(contentFile(id))) {
                        throw new IllegalArgumentException(id + ": envelope without content");
                    }
                    queued.add(EnvelopeFile.parse(id, Files.readString(file, StandardCharsets.UTF_8)));
                } catch (IllegalArgumentException | IOException e) {
                    LOG.error("moving {} to {}: {}", file, corrupt, e.getMessage());
                    Files.createDirectories(corrupt);
                    Files.move(file, corrupt.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                    if (Files.exists(contentFile(id))) {
                        Files.move(contentFile(id), corrupt.resolve(id + ".eml"), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
        return queued;
    }

    private Path envelopeFile(String id) {
        return active.resolve(id + ".env");
    }

    private static String idOf(String fileName) {
        return fileName.substring(0, fileName.lastIndexOf('.'));
    }

    /**
     * Time-ordered and unique within this process (a counter) and across restarts (the time moves on): the
     * milliseconds in base 36, then the counter in hex, upper case, as Postfix's long queue ids.
     */
    private static String newId() {
        return (Long.toString(System.currentTimeMillis(), 36) + String.format("%05X", COUNTER.incrementAndGet() & 0xFFFFF))
                .toUpperCase(Locale.ROOT);
    }

    private static void write(Path file, String text) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(true);
        }
    }

    private static Path move(Path from, Path to) throws IOException {
        try {
            return Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the queue's tmp and active folders must be on one file system", e);
        }
    }

    private static void force(Path folder) throws IOException {
        try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    private static List<Path> list(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(Files::isRegularFile).sorted().toList();
        }
    }

    private static void deleteQuietly(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", file, e.toString());
        }
    }
}
