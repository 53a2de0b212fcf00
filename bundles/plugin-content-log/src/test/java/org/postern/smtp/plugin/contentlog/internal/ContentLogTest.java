package org.postern.smtp.plugin.contentlog.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestContext;

class ContentLogTest {
    /** 23:30 on 1 June 2024 in UTC, already 2 June east of it. */
    private static final Instant LATE_EVENING = Instant.parse("2024-06-01T23:30:00Z");

    @TempDir
    Path folder;

    private static TestContext message(String wire) {
        TestContext ctx = new TestContext();
        ctx.transaction().message(wire);
        return ctx;
    }

    private ContentLog plugin(ZoneId zone) {
        return new ContentLog(folder.resolve("mail"), Clock.fixed(LATE_EVENING, zone));
    }

    @Test
    void eachMessageIsAppendedToTheDaysFileWithUnixLineEndings() throws IOException {
        ContentLog plugin = plugin(ZoneOffset.UTC);
        TestContext first = message("Subject: one\r\n\r\nHello.\r\n");
        assertEquals(ReturnCode.DECLINED, plugin.onDataPost(first).code());
        assertEquals(ReturnCode.DECLINED, plugin.onDataPost(message("Subject: two\r\n\r\n.\r\nBye.\r\n")).code());
        assertEquals("Subject: one\n\nHello.\nSubject: two\n\n.\nBye.\n",
                Files.readString(folder.resolve("mail/20240601"), StandardCharsets.ISO_8859_1));
        assertEquals(List.of("DEBUG successfully saved message.. continuing: " + folder.resolve("mail/20240601")),
                first.logged());
    }

    @Test
    void theDayIsTheServersLocalOne() throws IOException {
        plugin(ZoneId.of("Europe/Berlin")).onDataPost(message("Subject: late\r\n\r\nHi.\r\n"));
        assertEquals(List.of(folder.resolve("mail/20240602")), list(folder.resolve("mail")));
    }

    @Test
    void aFolderThatCannotBeWrittenIsLoggedAndTheMessageGoesOn() throws IOException {
        Files.writeString(folder.resolve("mail"), "a file where the folder should be");
        TestContext ctx = message("Subject: lost\r\n\r\nHi.\r\n");
        assertEquals(ReturnCode.DECLINED, plugin(ZoneOffset.UTC).onDataPost(ctx).code());
        assertEquals(1, ctx.logged().size());
        assertTrue(ctx.logged().get(0).startsWith("ERROR Could not open log file.. continuing anyway: "
                + folder.resolve("mail/20240601")), ctx.logged().get(0));
    }

    @Test
    void messagesFromConcurrentSessionsDoNotInterleave() throws Exception {
        ContentLog plugin = plugin(ZoneOffset.UTC);
        String body = "x".repeat(20_000);
        ExecutorService sessions = Executors.newFixedThreadPool(8);
        List<Future<?>> written = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String subject = "Subject: " + i;
            written.add(sessions.submit(() -> plugin.onDataPost(message(subject + "\r\n\r\n" + body + "\r\n"))));
        }
        for (Future<?> message : written) {
            message.get();
        }
        sessions.shutdown();
        String log = Files.readString(folder.resolve("mail/20240601"), StandardCharsets.ISO_8859_1);
        assertTrue(log.matches("(Subject: \\d+\n\n" + body + "\n){40}"), "each message whole, one after another");
    }

    @Test
    void onlyCarriageReturnsBeforeLineFeedsAreDropped() throws IOException {
        assertEquals("a\nb\rc\r\r\nd\n\r", unix("a\r\nb\rc\r\r\r\nd\n\r"));
        String acrossBuffers = "y".repeat(8191) + "\r\nz\r";
        assertEquals("y".repeat(8191) + "\nz\r", unix(acrossBuffers));
    }

    private static String unix(String text) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ContentLog.copyWithUnixLineEndings(new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1)), out);
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    private static List<Path> list(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.toList();
        }
    }
}
