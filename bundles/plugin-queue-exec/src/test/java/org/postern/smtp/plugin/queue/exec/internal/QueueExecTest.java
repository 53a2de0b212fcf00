package org.postern.smtp.plugin.queue.exec.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class QueueExecTest {
    private static final String MESSAGE = "Received: from client\r\nSubject: hello\r\n\r\nfirst line\r\nsecond\rline\r\n";

    @TempDir
    Path folder;

    private final List<QueueExec> plugins = new ArrayList<>();

    @AfterEach
    void deactivate() {
        plugins.forEach(QueueExec::deactivate);
    }

    private QueueExec plugin(String command, Object... keysAndValues) {
        Map<String, Object> config = new HashMap<>(Map.of("command", command));
        for (int i = 0; i < keysAndValues.length; i += 2) {
            config.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        QueueExec plugin = new QueueExec(TestConfig.of(QueueExec.Config.class, config));
        plugins.add(plugin);
        return plugin;
    }

    /** A program of the test's own: writes its arguments, one a line, and its input to files, then runs the body. */
    private Path script(String body) throws IOException {
        Path script = folder.resolve("deliver");
        Files.writeString(script, String.join("\n",
                "#!/bin/sh",
                "for a; do printf '%s\\n' \"$a\"; done > " + folder.resolve("args"),
                "cat > " + folder.resolve("input"),
                body,
                ""));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    private static TestContext transaction(String sender, String... recipients) {
        TestContext ctx = new TestContext();
        ctx.transaction().sender(sender).message(MESSAGE);
        for (String recipient : recipients) {
            ctx.transaction().recipient(recipient);
        }
        return ctx;
    }

    private List<String> arguments() throws IOException {
        return Files.readAllLines(folder.resolve("args"));
    }

    @Test
    void theDefaultCommandIsSendmailWithTheSenderAfterDashFAndTheRecipientsAfterTheEndOfOptions() {
        QueueExec plugin = new QueueExec(TestConfig.of(QueueExec.Config.class, Map.of()));
        plugins.add(plugin);
        assertEquals(List.of("/usr/sbin/sendmail", "-i", "-f", "a@example.org", "--", "b@example.org", "-c@example.org"),
                plugin.expand("a@example.org", List.of("b@example.org", "-c@example.org")));
    }

    @Test
    void placeholdersAreFilledInWhereverTheyStand() {
        assertEquals(List.of("/bin/deliver", "--from=a@x", "b@y", "c@y", "--", "100%s"),
                plugin("/bin/deliver --from=%s %r -- 100%%s").expand("a@x", List.of("b@y", "c@y")));
    }

    @Test
    void addressesAreInTheFormAMailProgramParsesQuotedWhereTheyMustBe() {
        assertEquals("john.doe@example.org", QueueExec.argument(Address.parse("<john.doe@example.org>").orElseThrow()));
        assertEquals("\"john doe\"@example.org", QueueExec.argument(Address.parse("<\"john doe\"@example.org>").orElseThrow()));
        assertEquals("", QueueExec.argument(Address.nullSender()));
        assertEquals("postmaster", QueueExec.argument(Address.parse("<postmaster>").orElseThrow()));
    }

    @Test
    void aMisconfiguredCommandOrStatusListStopsTheComponent() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> plugin("/bin/deliver %x")).getMessage().contains("unknown placeholder"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> plugin("/bin/deliver --to=%r")).getMessage().contains("a word of its own"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> plugin("/bin/deliver", "permanent.codes", "65 x"))
                .getMessage().contains("'permanent.codes': 'x' is not an exit status"));
        assertThrows(IllegalArgumentException.class, () -> plugin("/bin/deliver", "max.processes", 0));
        assertThrows(IllegalArgumentException.class, () -> plugin("  "));
    }

    @Test
    void exitZeroQueuesTheMessageWithLfLineEndingsAndTheEnvelopeAsArguments() throws IOException {
        Path program = script("echo accepted >&2");
        TestContext ctx = transaction("<a@example.org>", "<b@example.org>", "<\"c d\"@example.org>");
        HookResult answer = plugin(program + " -i -f %s --").onQueue(ctx);
        assertTrue(answer.pending().isPresent(), "answered later, no hook thread waits for the program");
        HookResult settled = HookResults.settled(answer);
        assertEquals(ReturnCode.OK, settled.code());
        assertEquals(List.of("Queued"), settled.message());
        assertEquals(List.of("-i", "-f", "a@example.org", "--", "b@example.org", "\"c d\"@example.org"), arguments());
        assertEquals("Received: from client\nSubject: hello\n\nfirst line\nsecond\rline\n", Files.readString(folder.resolve("input")));
        assertEquals(2, ctx.logged().size(), ctx.logged().toString());
        assertTrue(ctx.logged().get(0).matches("INFO queued by " + program + " \\(process \\d+\\)"), ctx.logged().toString());
        assertEquals("INFO " + program + ": accepted", ctx.logged().get(1));
    }

    @Test
    void theNullSenderIsAnEmptyArgument() throws IOException {
        Path program = script("exit 0");
        assertEquals(ReturnCode.OK, HookResults.settled(plugin(program + " -f %s --").onQueue(transaction("<>", "<b@example.org>"))).code());
        assertEquals(List.of("-f", "", "--", "b@example.org"), arguments());
    }

    @Test
    void tempfailAndOtherStatusesAreTemporaryWithTheProgramsOutputLogged() throws IOException {
        Path program = script("echo 'queue file write error' >&2\nexit 75");
        TestContext ctx = transaction("<a@example.org>", "<b@example.org>");
        HookResult answer = HookResults.settled(plugin(program.toString()).onQueue(ctx));
        assertEquals(ReturnCode.DENYSOFT, answer.code());
        assertEquals(451, answer.replyCode().orElseThrow());
        assertEquals("4.3.0", answer.enhancedStatus().orElseThrow());
        assertEquals(List.of("Unable to queue message (75)"), answer.message());
        assertEquals(List.of("WARN " + program + " failed: 75 (EX_TEMPFAIL); the client will try again",
                "WARN " + program + ": queue file write error"), ctx.logged());

        Path other = script("exit 69");
        assertEquals(List.of("Unable to queue message (69)"),
                HookResults.settled(plugin(other.toString()).onQueue(transaction("<a@x.example>", "<b@example.org>"))).message());
    }

    @Test
    void statusesConfiguredAsPermanentRefuseTheMessage() throws IOException {
        Path program = script("exit 67");
        TestContext ctx = transaction("<a@example.org>", "<b@example.org>");
        HookResult answer = HookResults.settled(plugin(program.toString(), "permanent.codes", "65, 67-68").onQueue(ctx));
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(554, answer.replyCode().orElseThrow());
        assertEquals(List.of("Message refused by the delivery program (67)"), answer.message());
        assertEquals(List.of("WARN " + program + " refused the message for good: 67 (EX_NOUSER)"), ctx.logged());
    }

    @Test
    void aProgramThatHangsIsKilledWithWhatItStartedAtTheTimeLimit() throws IOException, InterruptedException {
        Path pid = folder.resolve("sleeper");
        Path program = script("sleep 60 & echo $! > " + pid + "\nwait");
        TestContext ctx = transaction("<a@example.org>", "<b@example.org>");
        long started = System.nanoTime();
        HookResult answer = HookResults.settled(plugin(program.toString(), "timeout", 1).onQueue(ctx));
        long tookMillis = (System.nanoTime() - started) / 1_000_000;
        assertEquals(List.of("Unable to queue message (timeout)"), answer.message());
        assertTrue(tookMillis >= 900 && tookMillis < 5000, tookMillis + " ms");
        assertEquals(List.of("ERROR " + program + " did not finish within 1 s; killed"), ctx.logged());
        long sleeper = Long.parseLong(Files.readString(pid).strip());
        long deadline = System.currentTimeMillis() + 5000;
        while (ProcessHandle.of(sleeper).map(ProcessHandle::isAlive).orElse(false) && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertFalse(ProcessHandle.of(sleeper).map(ProcessHandle::isAlive).orElse(false), "the program's child is killed too");
    }

    @Test
    void aProgramThatNeverReadsItsInputIsKilledAtTheTimeLimitToo() throws IOException {
        Path program = folder.resolve("deaf");
        Files.writeString(program, "#!/bin/sh\nexec sleep 60\n");
        Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
        TestContext ctx = new TestContext();
        // far more than a pipe holds, so the write blocks until the program dies
        ctx.transaction().sender("<a@example.org>").recipient("<b@example.org>").message("Subject: big\r\n\r\n" + "x".repeat(1 << 20) + "\r\n");
        assertEquals(List.of("Unable to queue message (timeout)"), HookResults.settled(plugin(program.toString(), "timeout", 1).onQueue(ctx)).message());
    }

    @Test
    void aProgramThatExitsZeroWithoutReadingTheMessageHasNotQueuedIt() throws IOException {
        Path program = folder.resolve("lazy");
        Files.writeString(program, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
        TestContext ctx = new TestContext();
        ctx.transaction().sender("<a@example.org>").recipient("<b@example.org>").message("Subject: big\r\n\r\n" + "x".repeat(1 << 20) + "\r\n");
        HookResult answer = HookResults.settled(plugin(program.toString()).onQueue(ctx));
        assertEquals(ReturnCode.DENYSOFT, answer.code());
        assertEquals(List.of("WARN " + program + " exited with 0 before reading the whole message"), ctx.logged());
    }

    @Test
    void whenTheServerStoppedWaitingTheProgramIsKilledBeforeTheEndOfTheMessage() throws IOException {
        Path program = script("touch " + folder.resolve("queued"));
        TestContext ctx = transaction("<a@example.org>", "<b@example.org>").withCommitRefused();
        HookResult answer = HookResults.settled(plugin(program.toString()).onQueue(ctx));
        assertEquals(List.of("Unable to queue message (withdrawn)"), answer.message());
        assertFalse(Files.exists(folder.resolve("queued")), "the program never saw the end of its input");
    }

    @Test
    void whenTheServerStoppedWaitingWhatTheProgramStartedIsKilledEvenAfterItLeftItsParent() throws Exception {
        // the reader detaches as a daemon does: no longer the program's descendant, it would get the end of input
        // once the program is dead and its pipe closed, and deliver a message whose client was told to try again
        Path program = folder.resolve("detaching");
        Path started = folder.resolve("started");
        // (descriptor 3: sh gives a command in the background /dev/null as its standard input)
        Files.writeString(program, String.join("\n", "#!/bin/sh",
                "exec 3<&0",
                "( sh -c 'echo $$ > " + started + ".tmp; mv " + started + ".tmp " + started + "; cat <&3 > " + folder.resolve("input")
                        + "; touch " + folder.resolve("queued") + "' & )",
                "exec sleep 60", ""));
        Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
        TestContext ctx = new TestContext() {
            @Override
            public boolean commit() {
                awaitFile(started);
                return false;
            }
        };
        ctx.transaction().sender("<a@example.org>").recipient("<b@example.org>").message(MESSAGE);
        HookResult answer = HookResults.settled(plugin(program.toString()).onQueue(ctx));
        assertEquals(List.of("Unable to queue message (withdrawn)"), answer.message());
        ProcessHandle reader = ProcessHandle.of(Long.parseLong(Files.readString(started).strip())).orElse(null);
        if (reader != null) {
            assertTrue(reader.onExit().orTimeout(5, TimeUnit.SECONDS).handle((ended, timedOut) -> timedOut == null).join(),
                    "the detached reader is gone");
        }
        assertFalse(Files.exists(folder.resolve("queued")), "the detached reader never saw the end of its input");
    }

    private static void awaitFile(Path file) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!Files.exists(file)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(file + " not written within 5 s");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    @Test
    void beyondTheRunningAndWaitingDeliveriesAMessageGets451AtOnce() throws IOException {
        Path program = script("sleep 2");
        QueueExec plugin = plugin(program.toString(), "max.processes", 1, "max.waiting", 1, "timeout", 10);
        HookResult first = plugin.onQueue(transaction("<a@example.org>", "<b@example.org>"));
        HookResult second = plugin.onQueue(transaction("<a@example.org>", "<b@example.org>"));
        TestContext third = transaction("<a@example.org>", "<b@example.org>");
        assertEquals(List.of("Unable to queue message (busy)"), HookResults.settled(plugin.onQueue(third)).message());
        assertTrue(third.logged().get(0).startsWith("WARN every " + program + " slot and waiting place taken"), third.logged().toString());
        assertEquals(ReturnCode.OK, HookResults.settled(first).code());
        assertEquals(ReturnCode.OK, HookResults.settled(second).code());
    }

    @Test
    void aMissingProgramIsATemporaryFailure() {
        TestContext ctx = transaction("<a@example.org>", "<b@example.org>");
        HookResult answer = HookResults.settled(plugin(folder.resolve("nonexistent") + " -f %s").onQueue(ctx));
        assertEquals(List.of("Unable to queue message (cannot run nonexistent)"), answer.message());
        assertTrue(ctx.logged().get(0).startsWith("ERROR cannot hand the message to " + folder.resolve("nonexistent")), ctx.logged().toString());
    }

    @Test
    void withoutEndOfOptionsARecipientThatLooksLikeAnOptionIsRefused() throws IOException {
        Path program = script("exit 0");
        TestContext ctx = transaction("<a@example.org>", "<-C/tmp/evil@example.org>");
        HookResult answer = plugin(program + " -f %s").onQueue(ctx);
        assertEquals(ReturnCode.DENY, answer.code());
        assertFalse(Files.exists(folder.resolve("args")), "the program did not run");
        assertEquals(ReturnCode.OK, HookResults.settled(plugin(program + " -f %s --").onQueue(transaction("<a@example.org>",
                "<-C/tmp/evil@example.org>"))).code());
        assertEquals(List.of("-f", "a@example.org", "--", "-C/tmp/evil@example.org"), arguments());
    }
}
