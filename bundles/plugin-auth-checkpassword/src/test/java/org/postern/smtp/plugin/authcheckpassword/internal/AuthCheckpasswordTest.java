package org.postern.smtp.plugin.authcheckpassword.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

/**
 * Small shell scripts stand in for the checkpassword program. The folder's name has a space and shell syntax in it,
 * so every test also shows that the paths reach the program as they are, never as shell text.
 */
class AuthCheckpasswordTest {
    @TempDir
    Path temp;

    private Path folder;
    /** What the program read on descriptor 3. */
    private Path input;
    /** Left by the program checkpw runs on success, with the arguments it got. */
    private Path ran;
    private Path next;
    private final TestContext ctx = new TestContext();

    @BeforeEach
    void folders() throws IOException {
        folder = Files.createDirectories(temp.resolve("check pw; touch pwned"));
        input = folder.resolve("input");
        ran = folder.resolve("ran");
        next = script("true", "echo \"$@\" > '" + ran + "'");
    }

    private Path script(String name, String body) throws IOException {
        Path script = folder.resolve(name);
        Files.writeString(script, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    /** A checkpassword program: keeps its input, takes alice's password, and ends as the body says otherwise. */
    private Path checkpw(String otherwise) throws IOException {
        return script("checkpw", String.join("\n",
                "cat <&3 > '" + input + "'",
                "if [ \"$(tr '\\0' '\\n' < '" + input + "' | head -n 2)\" = \"$(printf 'alice@example.org\\ncorrect horse')\" ]; then",
                "  exec \"$@\"",
                "fi",
                otherwise));
    }

    private static AuthCheckpassword plugin(Map<String, Object> keys) {
        return new AuthCheckpassword(TestConfig.of(AuthCheckpassword.Config.class, keys));
    }

    private AuthCheckpassword plugin(Path checkpw) {
        return plugin(Map.of("checkpw", checkpw.toString(), "true", next.toString(), "timeout", 5));
    }

    private HookResult answer(AuthCheckpassword plugin, String mechanism, String user, String password) {
        return plugin.onAuth(ctx.auth(mechanism, user, password, null, null));
    }

    private ReturnCode plain(AuthCheckpassword plugin, String user, String password) {
        return HookResults.settled(answer(plugin, "plain", user, password)).code();
    }

    @Test
    void aGoodPasswordRunsTheNextProgramAndIsOk() throws IOException {
        AuthCheckpassword plugin = plugin(checkpw("exit 1"));
        HookResult answer = answer(plugin, "login", "alice@example.org", "correct horse");
        assertTrue(answer.pending().isPresent(), "answered when the program has exited, with no thread waiting for it");
        assertEquals(ReturnCode.OK, HookResults.settled(answer).code());
        assertArrayEquals("alice@example.org\0correct horse\0Y123456\0".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(input));
        assertEquals("\n", Files.readString(ran), "the program given as 'true' ran, with no arguments");
        assertFalse(Files.exists(folder.resolve("pwned")));
        assertEquals(List.of("INFO pass: alice@example.org with LOGIN"), ctx.logged());
    }

    @Test
    void aWrongPasswordIsDenied() throws IOException {
        AuthCheckpassword plugin = plugin(checkpw("exit 1"));
        assertEquals(ReturnCode.DENY, plain(plugin, "alice@example.org", "guess"));
        assertEquals(ReturnCode.DENY, plain(plugin, "mallory@example.org", "correct horse"));
        assertFalse(Files.exists(ran));
    }

    @Test
    void exit111IsATemporaryFailure() throws IOException {
        AuthCheckpassword plugin = plugin(checkpw("exit 111"));
        assertEquals(ReturnCode.DENYSOFT, plain(plugin, "alice@example.org", "guess"));
        assertTrue(ctx.logged().get(0).startsWith("WARN skip: "), ctx.logged().toString());
        assertTrue(ctx.logged().get(0).endsWith("checkpw failed temporarily for alice@example.org (exit 111)"), ctx.logged().toString());
    }

    @Test
    void otherStatusesAreLeftToTheNextPlugin() throws IOException {
        assertEquals(ReturnCode.DECLINED, plain(plugin(checkpw("exit 2")), "alice@example.org", "guess"));
        assertEquals(ReturnCode.DECLINED, plain(plugin(checkpw("kill -9 $$")), "alice@example.org", "guess"));
        assertTrue(ctx.logged().get(0).startsWith("NOTICE fail: ") && ctx.logged().get(0).endsWith(" exited with 2 for alice@example.org"),
                ctx.logged().toString());
    }

    @Test
    void aProgramThatCannotRunIsATemporaryFailure() throws IOException {
        Path missing = folder.resolve("vchkpw");
        assertEquals(ReturnCode.DENYSOFT, plain(plugin(missing), "alice@example.org", "correct horse"));
        assertEquals(List.of("ERROR skip: " + missing + " is not an executable program"), ctx.logged());

        AuthCheckpassword noTrue = plugin(Map.of("checkpw", checkpw("exit 1").toString(), "true", folder.resolve("gone").toString()));
        assertEquals(ReturnCode.DENYSOFT, plain(noTrue, "alice@example.org", "correct horse"));
        assertFalse(Files.exists(input), "neither program ran");

        // a script whose interpreter is missing: the shell cannot run it (126 or 127)
        Path broken = script("broken", "");
        Files.writeString(broken, "#!/nonexistent/interpreter\n");
        assertEquals(ReturnCode.DENYSOFT, plain(plugin(broken), "alice@example.org", "correct horse"));
        assertTrue(ctx.logged().get(2).matches("ERROR skip: .* could not be run \\(exit 12[67]\\)"), ctx.logged().toString());
    }

    @Test
    void cramMd5IsDeclinedWithoutRunningTheProgram() throws IOException {
        AuthCheckpassword plugin = plugin(checkpw("exit 1"));
        HookResult answer = plugin.onAuth(ctx.auth("cram-md5", "alice@example.org", null, "0123456789abcdef", "<1.2@test>"));
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertTrue(answer.pending().isEmpty());
        assertFalse(Files.exists(input));
    }

    @Test
    void nulInTheCredentialsIsDeniedAndOverlongOnesAreDeclinedWithoutRunningTheProgram() throws IOException {
        AuthCheckpassword plugin = plugin(checkpw("exit 1"));
        // LOGIN may carry NUL; the program would read alice's name and password out of this user name
        assertEquals(ReturnCode.DENY, plain(plugin, "alice@example.org\0correct horse", "x"));
        assertEquals(ReturnCode.DENY, plain(plugin, "alice@example.org", "correct\0horse"));
        String longest = "p".repeat(AuthCheckpassword.MAX_INPUT - "alice@example.org\0\0Y123456\0".length());
        assertEquals(ReturnCode.DECLINED, plain(plugin, "alice@example.org", longest + "p"));
        assertFalse(Files.exists(input));
        assertEquals(ReturnCode.DENY, plain(plugin, "alice@example.org", longest));
        assertEquals(AuthCheckpassword.MAX_INPUT, Files.size(input));
    }

    @Test
    void aSlowProgramIsKilledAtTheTimeoutAndIsATemporaryFailure() throws Exception {
        Path pid = folder.resolve("pid");
        Path slow = script("slow", "echo $$ > '" + pid + "'\nsleep 60 &\necho $! >> '" + pid + "'\nwait");
        AuthCheckpassword plugin = plugin(Map.of("checkpw", slow.toString(), "true", next.toString(), "timeout", 1));
        long started = System.nanoTime();
        assertEquals(ReturnCode.DENYSOFT, plain(plugin, "alice@example.org", "correct horse"));
        long tookMillis = (System.nanoTime() - started) / 1_000_000;
        assertTrue(tookMillis >= 900 && tookMillis < 5000, "took " + tookMillis + " ms");
        assertTrue(ctx.logged().get(0).matches("ERROR skip: .*slow did not exit within 1 s; killed"), ctx.logged().toString());
        // the program and its child are gone
        for (String line : Files.readAllLines(pid)) {
            long deadline = System.currentTimeMillis() + 5000;
            while (ProcessHandle.of(Long.parseLong(line)).map(ProcessHandle::isAlive).orElse(false)) {
                assertTrue(System.currentTimeMillis() < deadline, "process " + line + " still running");
                Thread.sleep(20);
            }
        }
    }

    @Test
    void programsRunningAtOnceAreBounded() throws Exception {
        Path release = folder.resolve("release");
        Path started = folder.resolve("started");
        Path waiting = script("waiting", "touch '" + started + "'\nwhile [ ! -e '" + release + "' ]; do sleep 0.02; done\nexit 1");
        AuthCheckpassword plugin = plugin(Map.of("checkpw", waiting.toString(), "true", next.toString(), "max.processes", 1));
        HookResult first = answer(plugin, "plain", "alice@example.org", "guess");
        HookResult second = answer(plugin, "plain", "bob@example.org", "guess");
        assertEquals(ReturnCode.DENYSOFT, second.code(), "refused at once, without waiting");
        assertTrue(ctx.logged().contains("WARN skip: 1 checkpassword programs already running; bob@example.org told to try again later"),
                ctx.logged().toString());
        Files.createFile(release);
        assertEquals(ReturnCode.DENY, HookResults.settled(first).code());
        // the permit comes back when the program has ended, which the answer does not wait for
        long deadline = System.currentTimeMillis() + 5000;
        HookResult third;
        while ((third = answer(plugin, "plain", "bob@example.org", "guess")).pending().isEmpty()) {
            assertTrue(System.currentTimeMillis() < deadline, "no permit back after the program ended");
            Thread.sleep(20);
        }
        assertEquals(ReturnCode.DENY, HookResults.settled(third).code());
        assertTrue(Files.exists(started));
    }

    @Test
    void checkpwIsRequiredAndTheLimitsArePositive() {
        assertThrows(IllegalArgumentException.class, () -> plugin(Map.of()));
        assertThrows(IllegalArgumentException.class, () -> plugin(Map.of("checkpw", " ")));
        Map<String, Object> keys = new HashMap<>(Map.of("checkpw", "/usr/bin/vchkpw", "timeout", 0));
        assertThrows(IllegalArgumentException.class, () -> plugin(keys));
        keys.put("timeout", 5);
        keys.put("max.processes", 0);
        assertThrows(IllegalArgumentException.class, () -> plugin(keys));
        keys.put("max.processes", 1);
        plugin(keys);
    }
}
