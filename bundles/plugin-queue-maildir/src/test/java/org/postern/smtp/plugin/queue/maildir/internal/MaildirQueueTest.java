package org.postern.smtp.plugin.queue.maildir.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.lang.reflect.Proxy;
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
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.Session;
import org.postern.smtp.api.Transaction;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestContext;

class MaildirQueueTest {
    @TempDir
    Path root;

    private final TestContext ctx = new TestContext();

    private static List<Path> files(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(folder)) {
            return list.toList();
        }
    }

    @Test
    void deliversOneFileWithTraceHeadersAndUnixLineEndings() throws IOException {
        ctx.transaction().sender("<alice@example.com>").recipient("<bob@example.org>").recipient("<carol@example.org>")
                .message("Subject: hi\r\n\r\nline one\r\nline two\r\n");
        HookResult answer = new MaildirQueue(root, "", true).onQueue(ctx);
        assertEquals(ReturnCode.OK, answer.code());
        List<Path> delivered = files(root.resolve("new"));
        assertEquals(1, delivered.size());
        assertTrue(answer.message().get(0).endsWith(delivered.get(0).getFileName().toString()));
        assertEquals("Return-Path: <alice@example.com>\nDelivered-To: bob@example.org\nDelivered-To: carol@example.org\n"
                + "Subject: hi\n\nline one\nline two\n", Files.readString(delivered.get(0)));
        assertEquals(List.of(), files(root.resolve("tmp")));
        assertTrue(Files.isDirectory(root.resolve("cur")));
    }

    /** A crash while a message was written leaves it in tmp/; the Maildir convention lets it go after 36 hours. */
    @Test
    void filesLeftInTmpForMoreThan36HoursAreDeletedWhenTheMaildirIsFirstUsed() throws IOException {
        Files.createDirectories(root.resolve("tmp"));
        Path stale = Files.writeString(root.resolve("tmp/1700000000.P1M1Q1.crashed"), "half a message");
        Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofHours(37))));
        Path recent = Files.writeString(root.resolve("tmp/1700000000.P1M1Q2.writing"), "being written");
        ctx.transaction().sender("<alice@example.com>").recipient("<bob@example.org>").message("Subject: hi\r\n\r\nbody\r\n");
        assertEquals(ReturnCode.OK, new MaildirQueue(root, "", false).onQueue(ctx).code());
        assertEquals(List.of(recent), files(root.resolve("tmp")));
    }

    @Test
    void subdirsDeliverOneCopyPerRecipient() throws IOException {
        ctx.transaction().sender("<alice@example.com>").recipient("<bob@Example.org>").recipient("<\"odd name\"@example.org>")
                .message("Subject: hi\r\n\r\nbody\r\n");
        assertEquals(ReturnCode.OK, new MaildirQueue(root, "%d/%l", false).onQueue(ctx).code());
        assertEquals(1, files(root.resolve("example.org/bob/new")).size());
        Path odd = files(root.resolve("example.org/odd_name/new")).get(0);
        assertTrue(Files.readString(odd).startsWith("Return-Path: <alice@example.com>\nDelivered-To: odd name@example.org\n"));
    }

    @Test
    void aReadFailureMidMessageGivesATemporaryFailureAndLeavesNothingBehind() throws IOException {
        ctx.transaction().sender("<a@example.com>").recipient("<b@example.org>").message("Subject: x\r\n\r\nbody\r\n");
        HookContext failing = new HookContext() {
            @Override
            public Session session() {
                return ctx.session();
            }

            @Override
            public Transaction transaction() {
                return (Transaction) Proxy.newProxyInstance(Transaction.class.getClassLoader(), new Class<?>[] {Transaction.class},
                        (proxy, method, args) -> method.getName().equals("message")
                                ? new SequenceInputStream(new ByteArrayInputStream(new byte[100]), new InputStream() {
                                    @Override
                                    public int read() throws IOException {
                                        throw new IOException("spool disk gone");
                                    }
                                })
                                : method.invoke(ctx.transaction(), args));
            }

            @Override
            public List<String> config(String item) {
                return List.of();
            }

            @Override
            public List<String> userConfig(Address user, String item) {
                return List.of();
            }

            @Override
            public void log(LogLevel level, String message) {
            }

            @Override
            public boolean commit() {
                return true;
            }

            @Override
            public org.postern.smtp.api.ClientConversation client() {
                return new org.postern.smtp.testkit.TestClient();
            }
        };
        HookResult answer = new MaildirQueue(root, "", true).onQueue(failing);
        assertEquals(ReturnCode.DENYSOFT, answer.code());
        assertEquals(451, answer.replyCode().orElseThrow());
        assertEquals(List.of(), files(root.resolve("tmp")));
        assertEquals(List.of(), files(root.resolve("new")));
    }

    @Test
    void aMaildirThatIsAFileGivesATemporaryFailure() throws IOException {
        Path notAFolder = Files.writeString(root.resolve("file"), "x");
        ctx.transaction().sender("<a@example.com>").recipient("<b@example.org>").message("Subject: x\r\n\r\nbody\r\n");
        HookResult answer = new MaildirQueue(notAFolder, "", true).onQueue(ctx);
        assertEquals(ReturnCode.DENYSOFT, answer.code());
        assertEquals("451", answer.replyCode().map(String::valueOf).orElseThrow());
    }

    @Test
    void lineEndingConversionKeepsLoneCarriageReturns() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        MaildirQueue.copyWithUnixLineEndings(new ByteArrayInputStream("a\r\nb\rc\r\n\r".getBytes(StandardCharsets.ISO_8859_1)), out);
        assertEquals("a\nb\rc\n\r", out.toString(StandardCharsets.ISO_8859_1));
    }

    @Test
    void templatesAreExpandedAndCannotEscapeTheMaildir() {
        Address bob = Address.parse("<Bob+tag@Example.ORG>").orElseThrow();
        assertEquals("example.org/Bob+tag/Bob+tag@example.org/%", MaildirQueue.expand("%d/%l/%u/%%", bob));
        Address sneaky = Address.parse("<\"../../etc\"@example.org>").orElseThrow();
        assertEquals(root.resolve("_._.._etc"), MaildirQueue.folderFor(root, "%l", sneaky));
        assertThrows(IllegalArgumentException.class, () -> MaildirQueue.folderFor(root, "../%l", bob));
    }

    @Test
    void localPartsThatAreDotsGetOrdinaryFoldersSoRetriesCanSucceed() throws IOException {
        ctx.transaction().sender("<a@example.com>").recipient("<\".\"@example.org>").recipient("<\"..\"@example.org>")
                .recipient("<\".hidden\"@example.org>").message("Subject: x\r\n\r\nbody\r\n");
        assertEquals(ReturnCode.OK, new MaildirQueue(root, "%l", true).onQueue(ctx).code());
        assertEquals(1, files(root.resolve("_/new")).size());
        assertEquals(1, files(root.resolve("_./new")).size());
        assertEquals(1, files(root.resolve("_hidden/new")).size());
    }

    @Test
    void nothingIsMovedIntoPlaceWhenTheServerNoLongerWaits() throws IOException {
        ctx.withCommitRefused();
        ctx.transaction().sender("<a@example.com>").recipient("<b@example.org>").recipient("<c@example.org>")
                .message("Subject: x\r\n\r\nbody\r\n");
        assertEquals(ReturnCode.DENYSOFT, new MaildirQueue(root, "%l", true).onQueue(ctx).code());
        for (String user : List.of("b", "c")) {
            assertEquals(List.of(), files(root.resolve(user).resolve("new")));
            assertEquals(List.of(), files(root.resolve(user).resolve("tmp")));
        }
    }

    @Test
    void perRecipientCopiesAreDeliveredToAllOrNone() throws IOException {
        Files.createDirectories(root.resolve("c"));
        Files.writeString(root.resolve("c/new"), "a file where c's new/ folder should be");
        ctx.transaction().sender("<a@example.com>").recipient("<b@example.org>").recipient("<c@example.org>")
                .message("Subject: x\r\n\r\nbody\r\n");
        assertEquals(ReturnCode.DENYSOFT, new MaildirQueue(root, "%l", true).onQueue(ctx).code());
        assertEquals(List.of(), files(root.resolve("b/new")), "b's copy is not delivered when c's cannot be");
        assertEquals(List.of(), files(root.resolve("b/tmp")));
    }
}
