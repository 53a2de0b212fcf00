package org.postern.smtp.plugin.queue.qmailqueue.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class QmailQueueTest {
    private static final String MESSAGE = "Received: from client\r\nMessage-Id: <42@client.example>\r\nSubject: hi\r\n\r\nbody\r\n";

    @TempDir
    Path folder;

    private final List<QmailQueue> plugins = new ArrayList<>();

    @AfterEach
    void deactivate() {
        plugins.forEach(QmailQueue::deactivate);
    }

    /**
     * A qmail-queue of the test's own: descriptor 0 into {@code message}, then descriptor 1 into {@code envelope}, its
     * process id into {@code pid}; exits as a recipient asks (spam@ 31, full@ 53, slow@ sleeps).
     */
    private Path qmailQueue() throws IOException {
        Path script = folder.resolve("qmail-queue");
        Files.writeString(script, String.join("\n",
                "#!/bin/sh",
                "echo $$ > " + folder.resolve("pid"),
                "cat > " + folder.resolve("message"),
                "cat 0<&1 > " + folder.resolve("envelope"),
                "case $(tr '\\0' '\\n' < " + folder.resolve("envelope") + ") in",
                "  *Tspam@*) echo 'message looks like spam' >&2; exit 31 ;;",
                "  *Tfull@*) exit 53 ;;",
                "  *Tslow@*) exec sleep 60 ;;",
                "esac",
                ""));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    private QmailQueue plugin(Path program, Object... keysAndValues) {
        Map<String, Object> config = new HashMap<>(Map.of("qmail.queue", program.toString()));
        for (int i = 0; i < keysAndValues.length; i += 2) {
            config.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        QmailQueue plugin = new QmailQueue(TestConfig.of(QmailQueue.Config.class, config), Map.of());
        plugins.add(plugin);
        return plugin;
    }

    private static TestContext transaction(String sender, String... recipients) {
        TestContext ctx = new TestContext();
        ctx.transaction().sender(sender).message(MESSAGE);
        for (String recipient : recipients) {
            ctx.transaction().recipient(recipient);
        }
        return ctx;
    }

    private String envelope() throws IOException {
        return new String(Files.readAllBytes(folder.resolve("envelope")), StandardCharsets.ISO_8859_1);
    }

    @Test
    void theProgramIsChosenAsQpsmtpdChoosesIt() {
        assertEquals("/var/qmail/bin/qmail-queue", QmailQueue.program("", Map.of()));
        assertEquals("/opt/qmail/bin/qmail-queue", QmailQueue.program("", Map.of("QMAIL", "/opt/qmail")));
        assertEquals("/usr/bin/simscan", QmailQueue.program("/usr/bin/simscan", Map.of("QMAIL", "/opt/qmail")));
        assertEquals("/usr/bin/qmail-scanner", QmailQueue.program("/usr/bin/simscan", Map.of("QMAILQUEUE", "/usr/bin/qmail-scanner")));
        QmailQueue.Config defaults = TestConfig.of(QmailQueue.Config.class, Map.of());
        assertEquals("/var/qmail/bin/qmail-queue", new QmailQueue(defaults, Map.of()).program());
        assertThrows(IllegalArgumentException.class, () -> new QmailQueue(defaults, Map.of("QMAILQUEUE", "qmail-queue")));
        assertThrows(IllegalArgumentException.class, () -> plugin(folder, "permanent.codes", "11-"));
    }

    @Test
    void theMessageGoesOnDescriptorZeroAndTheEnvelopeOnDescriptorOne() throws IOException {
        Path program = qmailQueue();
        TestContext ctx = transaction("<a@example.org>", "<b@example.org>", "<\"c d\"@example.org>", "<-x@example.org>");
        HookResult answer = plugin(program).onQueue(ctx);
        assertTrue(answer.pending().isPresent(), "answered later, no hook thread waits for the program");
        HookResult settled = HookResults.settled(answer);
        assertEquals(ReturnCode.OK, settled.code());
        String pid = Files.readString(folder.resolve("pid")).strip();
        assertTrue(settled.message().get(0).matches("Queued! \\d+ qp \\d+ <42@client\\.example>"), settled.message().toString());
        assertEquals("Received: from client\nMessage-Id: <42@client.example>\nSubject: hi\n\nbody\n", Files.readString(folder.resolve("message")));
        assertEquals("Fa@example.org\0Tb@example.org\0Tc d@example.org\0T-x@example.org\0\0", envelope());
        assertTrue(ctx.logged().get(0).startsWith("INFO queued by " + program + " (process "), ctx.logged().toString());
        assertFalse(pid.isEmpty());
    }

    @Test
    void theNullSenderIsAnEmptyF() throws IOException {
        Path program = qmailQueue();
        assertEquals(ReturnCode.OK, HookResults.settled(plugin(program).onQueue(transaction("<>", "<b@example.org>"))).code());
        assertEquals("F\0Tb@example.org\0\0", envelope());
    }

    @Test
    void statusesElevenToFortyRefuseTheMessageForGoodOthersAreTemporary() throws IOException {
        Path program = qmailQueue();
        TestContext spam = transaction("<a@example.org>", "<spam@example.org>");
        HookResult refused = HookResults.settled(plugin(program).onQueue(spam));
        assertEquals(ReturnCode.DENY, refused.code());
        assertEquals(554, refused.replyCode().orElseThrow());
        assertEquals(List.of("Message refused by the delivery program (31)"), refused.message());
        assertEquals(List.of("WARN " + program + " refused the message for good: 31", "WARN " + program + ": message looks like spam"),
                spam.logged());

        HookResult full = HookResults.settled(plugin(program).onQueue(transaction("<a@example.org>", "<full@example.org>")));
        assertEquals(ReturnCode.DENYSOFT, full.code());
        assertEquals(451, full.replyCode().orElseThrow());
        assertEquals(List.of("Unable to queue message (53)"), full.message());

        // with no permanent statuses, as qpsmtpd: every failure temporary
        HookResult asQpsmtpd = HookResults.settled(plugin(program, "permanent.codes", "").onQueue(transaction("<a@example.org>", "<spam@example.org>")));
        assertEquals(ReturnCode.DENYSOFT, asQpsmtpd.code());
        assertEquals(List.of("Unable to queue message (31)"), asQpsmtpd.message());
    }

    @Test
    void aMissingProgramIsATemporaryFailure() {
        TestContext ctx = transaction("<a@example.org>", "<b@example.org>");
        HookResult answer = HookResults.settled(plugin(folder.resolve("nonexistent")).onQueue(ctx));
        assertEquals(ReturnCode.DENYSOFT, answer.code());
        assertEquals(List.of("Unable to queue message (127)"), answer.message());
        assertEquals("WARN " + folder.resolve("nonexistent") + " failed: 127 (the shell cannot find it); the client will try again",
                ctx.logged().get(0));
    }

    @Test
    void whenTheServerStoppedWaitingQmailQueueIsKilledBeforeItReadsTheEnvelope() throws IOException {
        Path program = qmailQueue();
        HookResult answer = HookResults.settled(plugin(program).onQueue(transaction("<a@example.org>", "<b@example.org>").withCommitRefused()));
        assertEquals(List.of("Unable to queue message (withdrawn)"), answer.message());
        assertFalse(Files.exists(folder.resolve("envelope")), "qmail-queue never got to the envelope");
    }

    @Test
    void aHangingQmailQueueIsKilledAtTheTimeLimitThoughTheShellStartedIt() throws IOException, InterruptedException {
        Path program = qmailQueue();
        HookResult answer = HookResults.settled(plugin(program, "timeout", 1).onQueue(transaction("<a@example.org>", "<slow@example.org>")));
        assertEquals(List.of("Unable to queue message (timeout)"), answer.message());
        long pid = Long.parseLong(Files.readString(folder.resolve("pid")).strip());
        long deadline = System.currentTimeMillis() + 5000;
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "qmail-queue is killed");
    }
}
