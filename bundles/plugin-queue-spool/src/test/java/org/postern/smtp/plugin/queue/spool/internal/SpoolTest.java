package org.postern.smtp.plugin.queue.spool.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.RecipientState;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.State;
import org.postern.smtp.testkit.TestClock;

class SpoolTest {
    private static final String MESSAGE = "Subject: hello\r\nFrom: a@example.org\r\n\r\nbody\r\n";
    private static final Spool.NewMessage ENVELOPE = new Spool.NewMessage("a@example.org", List.of("b@example.net", "\"odd name\"@example.net"),
            "mx.example.org", Envelope.Body.EIGHT_BIT_MIME);

    @TempDir
    Path dir;

    private final TestClock clock = new TestClock(Instant.parse("2025-03-01T10:00:00Z"));

    private static List<String> names(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        }
    }

    private static Spool.Content text(String content) {
        return out -> out.write(content.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void aStoredMessageIsItsContentAndEnvelopeInActiveAndNothingInTmp() throws IOException {
        Spool spool = new Spool(dir, clock);
        QueuedMessage queued = spool.store(ENVELOPE, text(MESSAGE), () -> true);
        assertEquals(List.of(queued.id() + ".eml", queued.id() + ".env"), names(dir.resolve("active")));
        assertEquals(List.of(), names(dir.resolve("tmp")));
        assertEquals(MESSAGE, Files.readString(dir.resolve("active").resolve(queued.id() + ".eml")));
        assertEquals(MESSAGE.length(), queued.size());
        try (InputStream content = spool.open(queued.id())) {
            assertEquals(MESSAGE, new String(content.readAllBytes(), StandardCharsets.US_ASCII));
        }
        assertEquals(List.of(queued), spool.recover());
        assertEquals(new QueuedMessage(queued.id(), "a@example.org", clock.instant(), "mx.example.org", Envelope.Body.EIGHT_BIT_MIME,
                MESSAGE.length(), 0, clock.instant(), List.of(RecipientState.pending("b@example.net"), RecipientState.pending("\"odd name\"@example.net"))),
                queued);
    }

    @Test
    void idsAreUniqueAndGrowWithTime() throws IOException {
        Spool spool = new Spool(dir, clock);
        String first = spool.store(ENVELOPE, text(MESSAGE), () -> true).id();
        String second = spool.store(ENVELOPE, text(MESSAGE), () -> true).id();
        assertTrue(first.compareTo(second) < 0, first + " " + second);
        assertTrue(first.matches("[0-9A-Z]+"), first);
    }

    @Test
    void whenTheServerNoLongerWaitsNothingIsQueued() throws IOException {
        Spool spool = new Spool(dir, clock);
        assertThrows(Spool.NotCommitted.class, () -> spool.store(ENVELOPE, text(MESSAGE), () -> false));
        assertEquals(List.of(), names(dir.resolve("active")));
        assertEquals(List.of(), names(dir.resolve("tmp")));
    }

    @Test
    void aFailureWhileWritingLeavesNothingBehind() throws IOException {
        Spool spool = new Spool(dir, clock);
        IOException full = assertThrows(IOException.class, () -> spool.store(ENVELOPE, out -> {
            out.write(new byte[1000]);
            throw new IOException("No space left on device");
        }, () -> true));
        assertEquals("No space left on device", full.getMessage());
        assertEquals(List.of(), names(dir.resolve("active")));
        assertEquals(List.of(), names(dir.resolve("tmp")));
    }

    @Test
    void anUpdatedEnvelopeReplacesTheOldOneAndARemovedMessageIsGone() throws IOException {
        Spool spool = new Spool(dir, clock);
        QueuedMessage queued = spool.store(ENVELOPE, text(MESSAGE), () -> true);
        QueuedMessage tried = queued.withRecipients(List.of(new RecipientState("b@example.net", State.DELIVERED, "250 2.0.0 Ok", "dns; mx.example.net"),
                new RecipientState("\"odd name\"@example.net", State.PENDING, "451 4.2.0 try\r\nlater", "dns; mx.example.net")))
                .withSchedule(1, clock.instant().plusSeconds(300));
        spool.update(tried);
        assertEquals(List.of(), names(dir.resolve("tmp")));
        QueuedMessage recovered = spool.recover().get(0);
        assertEquals("451 4.2.0 try  later", recovered.recipients().get(1).lastReply(), "a line break in a reply cannot forge a line");
        assertEquals(tried.withRecipients(List.of(tried.recipients().get(0), recovered.recipients().get(1))), recovered);
        spool.remove(queued.id());
        assertEquals(List.of(), names(dir.resolve("active")));
    }

    /**
     * What a kill -9 leaves: a queued message (recovered), content whose envelope never made it into active/ (never
     * acknowledged: deleted), a day-old half-written file in tmp/ (deleted), a fresh one (left, a writer may hold it),
     * and an envelope that cannot be read (moved to corrupt/ with its content).
     */
    @Test
    void recoveryAfterACrashKeepsWhatWasQueuedAndClearsTheRest() throws IOException {
        Spool spool = new Spool(dir, clock);
        QueuedMessage queued = spool.store(ENVELOPE, text(MESSAGE), () -> true);
        Path active = dir.resolve("active");
        Files.writeString(active.resolve("ORPHAN.eml"), MESSAGE);
        Files.writeString(active.resolve("BROKEN.eml"), MESSAGE);
        Files.writeString(active.resolve("BROKEN.env"), "postern-queue 1\nsender a@example.org\narrival yesterday\n");
        Path stale = Files.writeString(dir.resolve("tmp/STALE.eml"), "half a mess");
        Files.setLastModifiedTime(stale, FileTime.from(clock.instant().minus(Duration.ofHours(25))));
        Path fresh = Files.writeString(dir.resolve("tmp/FRESH.eml"), "being written");
        Files.setLastModifiedTime(fresh, FileTime.from(clock.instant().minus(Duration.ofHours(23))));

        Spool restarted = new Spool(dir, clock);
        assertEquals(List.of(queued), restarted.recover());
        assertEquals(List.of(queued.id() + ".eml", queued.id() + ".env"), names(active));
        assertEquals(List.of("FRESH.eml"), names(dir.resolve("tmp")));
        assertEquals(List.of("BROKEN.eml", "BROKEN.env"), names(dir.resolve("corrupt")));
    }

    @Test
    void theEnvelopeFileIsReadableTextThatParsesBack() {
        QueuedMessage message = new QueuedMessage("ABC", "", Instant.parse("2025-03-01T10:00:00Z"), "mx.example.org", Envelope.Body.UNKNOWN, 42, 2,
                Instant.parse("2025-03-01T10:15:00Z"), List.of(new RecipientState("a@example.org", State.PENDING, "451 4.4.1 Cannot connect", ""),
                        new RecipientState("c@example.org", State.FAILED, "550 5.1.1 No such user", "dns; mx.example.org")));
        String text = EnvelopeFile.format(message);
        assertEquals("""
                postern-queue 1
                sender\s
                arrival 2025-03-01T10:00:00Z
                helo mx.example.org
                body UNKNOWN
                size 42
                attempts 2
                next-attempt 2025-03-01T10:15:00Z
                recipient PENDING a@example.org
                reply 451 4.4.1 Cannot connect
                recipient FAILED c@example.org
                reply 550 5.1.1 No such user
                remote-mta dns; mx.example.org
                """, text);
        assertEquals(message, EnvelopeFile.parse("ABC", text));
        assertThrows(IllegalArgumentException.class, () -> EnvelopeFile.parse("ABC", text.replace("size 42\n", "")));
        assertThrows(IllegalArgumentException.class, () -> EnvelopeFile.parse("ABC", text.replace("attempts 2", "tries 2")));
        assertFalse(text.contains("\r"));
    }

    @Test
    void backoffStartsAtRetryInitialAndDoublesUpToRetryMax() {
        RetrySchedule defaults = new RetrySchedule(Duration.ofSeconds(300), Duration.ofSeconds(3600));
        assertEquals(List.of(300L, 600L, 1200L, 2400L, 3600L, 3600L),
                Stream.of(1, 2, 3, 4, 5, 6).map(failures -> defaults.delayAfter(failures).toSeconds()).toList());
        assertEquals(Duration.ofSeconds(3600), defaults.delayAfter(1000), "no overflow after many failures");
        RetrySchedule quick = new RetrySchedule(Duration.ofSeconds(1), Duration.ofSeconds(3));
        assertEquals(List.of(1L, 2L, 3L, 3L), Stream.of(1, 2, 3, 4).map(failures -> quick.delayAfter(failures).toSeconds()).toList());
        assertThrows(IllegalArgumentException.class, () -> new RetrySchedule(Duration.ofSeconds(10), Duration.ofSeconds(5)));
    }
}
