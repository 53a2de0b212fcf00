package org.postern.smtp.plugin.quitfortune.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class QuitFortuneTest {
    @TempDir
    Path folder;

    private final TestContext ehloSession = new TestContext().withConfig("me", "mail.example");
    private final TestContext heloSession = new TestContext().withConfig("me", "mail.example");

    {
        heloSession.session().extended(false);
    }

    private Path script(String body) throws IOException {
        Path script = folder.resolve("fortune");
        Files.writeString(script, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    private static QuitFortune plugin(Path program, long timeoutMillis) {
        return new QuitFortune(TestConfig.of(QuitFortune.Config.class,
                Map.of("program", program.toString(), "timeout.ms", timeoutMillis)));
    }

    @Test
    void aHeloClientGetsTheShortFortuneAfterTheServersName() throws IOException {
        Path program = script("[ \"$1\" = -s ] || exit 3\nprintf 'Look before you leap.\\n\\tOld saying\\n'");
        HookResult answer = plugin(program, 5000).onQuit(heloSession);
        assertTrue(answer.pending().isPresent(), "answered when the program has ended, with no thread waiting for it");
        HookResult reply = HookResults.settled(answer);
        assertEquals(ReturnCode.DONE, reply.code());
        assertEquals(221, reply.replyCode().orElseThrow());
        assertEquals(List.of("mail.example closing connection.", "  / Look before you leap.", "  / \tOld saying"),
                reply.message());
    }

    @Test
    void anEhloClientGetsTheUsualReplyWithoutTheProgramRunning() throws IOException {
        Path ran = folder.resolve("ran");
        Path program = script("touch " + ran + "\necho fortune");
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin(program, 5000).onQuit(ehloSession)).code());
        assertFalse(Files.exists(ran));
        assertEquals(ReturnCode.DONE, HookResults.settled(plugin(program, 5000).onQuit(heloSession)).code());
        assertTrue(Files.exists(ran), "the script can tell");
    }

    @Test
    void aSlowProgramIsStoppedAtTheTimeLimit() throws IOException {
        Path program = script("sleep 30\necho too late");
        long started = System.nanoTime();
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin(program, 300).onQuit(heloSession)).code());
        long tookMillis = (System.nanoTime() - started) / 1_000_000;
        assertTrue(tookMillis < 5000, "took " + tookMillis + " ms");
        assertEquals(List.of("WARN " + program + " took longer than 300 ms; no fortune"), heloSession.logged());
    }

    @Test
    void aFailingOrSilentProgramGivesTheUsualReply() throws IOException {
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin(script("echo half a fortune\nexit 1"), 5000).onQuit(heloSession)).code());
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin(script("exit 0"), 5000).onQuit(heloSession)).code());
    }

    @Test
    void aMissingProgramDisablesThePluginQuietly() {
        QuitFortune plugin = plugin(folder.resolve("no-such-fortune"), 5000);
        assertEquals(ReturnCode.DECLINED, plugin.onQuit(heloSession).code());
        assertEquals(ReturnCode.DECLINED, plugin.onQuit(heloSession).code());
        assertEquals(List.of(), heloSession.logged(), "logged once, to the server log, not in each session");
    }

    @Test
    void whatIsNotPrintableAsciiIsShownAsAQuestionMark() throws IOException {
        Path program = script("printf 'caf\\303\\251 \\033[1mbold\\n'");
        assertEquals(List.of("mail.example closing connection.", "  / caf? ?[1mbold"),
                HookResults.settled(plugin(program, 5000).onQuit(heloSession)).message());
    }

    @Test
    void anUnusableTimeLimitMeansTwoSeconds() throws IOException {
        Path program = script("echo quick");
        assertEquals(ReturnCode.DONE, HookResults.settled(plugin(program, 0).onQuit(heloSession)).code());
    }
}
