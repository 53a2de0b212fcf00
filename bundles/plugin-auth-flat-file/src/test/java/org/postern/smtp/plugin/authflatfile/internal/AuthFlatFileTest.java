package org.postern.smtp.plugin.authflatfile.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.BlockingCalls;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestContext;

class AuthFlatFileTest {
    /**
     * Hashes made with the real tools: {@code htpasswd -nbB -C 10}, {@code mkpasswd -m bcrypt -R 6},
     * {@code mkpasswd -m bcrypt-a -R 5}, {@code mkpasswd -m sha-512 [-R 10000]}, {@code mkpasswd -m sha-256}, Python's
     * {@code crypt.crypt(pw, crypt.mksalt(crypt.METHOD_SHA256, rounds=6000))} and {@code mkpasswd} (yescrypt); the
     * password of each is in the tests below.
     */
    private static final String FILE = """
            # users
            Alice@Example.org:s3cret:with:colons
            bob@example.org:pw
            pat@example.org:$ecret
            carol@example.org:$2y$10$5UaBKvEntQV3waswdYB4G.SWhOcNFGfphCI1OCPQs6Rpm3DMsFr0u
            dave@example.org:$2b$06$UjqlGzN/5vFL6ZCwL9cNkeWSVyIleQfyZVrZfRQNu4wzVcDC7Smr2
            erin@example.org:$2a$05$C4qlJR6QXiOlzwQpNagGk.FP0Knpv4guzbxIYHhXYhXvGRIMXG0w2
            frank@example.org:$6$ZD3e0mgqNLUX1Ze0$Jp4gHmG9WR8f6jGHUoU2Nl2ZRLM/Pfm5doyVptmqzhn.fdkcNu8.VXFkD4MDs77aL0Twr8XmY1voU5FfxmeRd0
            grace@example.org:$6$rounds=10000$ahOw8lLvBcqHovL7$/ogyHbdatKiupLQiNKoUCJN9NnxPSOv8v9zTNIZGxpbxdS95DzWr40JAX72V1jVz2nJspfamugASFYY2nBsLh1
            heidi@example.org:$5$2uPJofVO0GS/RlHI$/XMWIC7ekB2TQLOVUASI/dbdiJIBWq1qtul.nEDiXXA
            ivan@example.org:$5$rounds=6000$xEo46DVq7WV35E22$7lC2vH3DItyr7G1vyg8cPl6UCh.8sb/h7aCvVsXq0m.
            judy@example.org:$y$j9T$rLG51E4ZX0XMiAWqy4VQ6.$sZ8DpPJv8uwq/65QHfxK415xBZQNEkrpITGyk6soct5
            ken@example.org:$6$ZD3e0mgqNLUX1Ze0$Jp4gHmG9WR8f6jGHUoU2Nl2ZRLM
            """;

    @TempDir
    Path folder;

    private Path file;
    private AuthFlatFile plugin;
    private final BlockingCalls hasher = new BlockingCalls("test-hashes", 1, 16);
    private final TestContext ctx = new TestContext();

    @BeforeEach
    void write() throws IOException {
        file = Files.writeString(folder.resolve("flat_auth_pw"), FILE);
        plugin = new AuthFlatFile(file, hasher);
    }

    @AfterEach
    void stop() {
        plugin.deactivate();
    }

    private HookResult answer(String mechanism, String user, String password) {
        return plugin.onAuth(ctx.auth(mechanism, user, password, null, null));
    }

    private ReturnCode plain(String user, String password) {
        return HookResults.settled(answer("plain", user, password)).code();
    }

    @Test
    void checksClearPasswords() {
        assertEquals(ReturnCode.OK, plain("alice@example.org", "s3cret:with:colons"));
        assertEquals(ReturnCode.DENY, plain("alice@example.org", "s3cret"));
        assertEquals(ReturnCode.DECLINED, plain("nobody@example.org", "pw"));
        assertEquals(ReturnCode.DECLINED, plain("bob", "pw"));
        // a '$' alone does not make a hash: only a crypt(3) id such as $6$ at the start does
        assertEquals(ReturnCode.OK, plain("pat@example.org", "$ecret"));
        assertTrue(answer("plain", "bob@example.org", "pw").pending().isEmpty(), "a clear password is checked at once");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "carol@example.org | bcrypt y pw",
        "dave@example.org  | bcrypt b pw",
        "erin@example.org  | bcrypt a pw",
        "frank@example.org | sha512 pw",
        "grace@example.org | rounds pw",
        "heidi@example.org | sha256 pw",
        "ivan@example.org  | python pw",
    })
    void checksHashedPasswordsOffTheHookThread(String user, String password) {
        HookResult right = answer("login", user, password);
        assertTrue(right.pending().isPresent(), "a hash is checked on the plugin's own pool");
        assertEquals(ReturnCode.OK, HookResults.settled(right).code());
        assertEquals(ReturnCode.DENY, plain(user, password + "!"));
        assertEquals(ReturnCode.DENY, plain(user, password.toUpperCase()));
        assertEquals(ReturnCode.DENY, plain(user, ""));
        assertEquals(List.of("INFO pass: " + user, "INFO fail: wrong password for " + user, "INFO fail: wrong password for " + user,
                "INFO fail: wrong password for " + user), ctx.logged().stream().filter(line -> line.startsWith("INFO")).toList());
    }

    @Test
    void entriesThatAreNotUsableHashesAreLoggedOnceAndLetNobodyIn() {
        // yescrypt (mkpasswd's default) is not checked here; the hash itself never works as a clear password
        assertEquals(ReturnCode.DENYSOFT, plain("judy@example.org", "yes pw"));
        assertEquals(ReturnCode.DENYSOFT, plain("judy@example.org", "$y$j9T$rLG51E4ZX0XMiAWqy4VQ6.$sZ8DpPJv8uwq/65QHfxK415xBZQNEkrpITGyk6soct5"));
        // a SHA-512 hash cut short
        assertEquals(ReturnCode.DENYSOFT, plain("ken@example.org", "sha512 pw"));
        List<String> errors = ctx.logged().stream().filter(line -> line.startsWith("ERROR")).toList();
        assertEquals(2, errors.size(), errors.toString());
        assertTrue(errors.get(0).contains("line 12: the password of judy@example.org"), errors.get(0));
        assertTrue(errors.get(1).contains("line 13: the password of ken@example.org"), errors.get(1));
    }

    @Test
    void roundsTheLibraryRefusesAreATemporaryFailure() throws IOException {
        String hash = "$6$rounds=2000000$ZD3e0mgqNLUX1Ze0$" + "a".repeat(86);
        Files.writeString(file, "oscar@example.org:" + hash + "\n");
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 10_000));
        assertEquals(ReturnCode.DENYSOFT, plain("oscar@example.org", "anything"));
        assertTrue(ctx.logged().get(0).startsWith("ERROR the hash of oscar@example.org cannot be checked: Rounds value"), ctx.logged().toString());
    }

    @Test
    void checksCramMd5Digests() {
        String ticket = "<1896.697170952@postoffice.example.net>";
        String digest = AuthFlatFile.cramMd5(ticket, "pw");
        assertEquals(ReturnCode.OK, plugin.onAuth(ctx.auth("cram-md5", "bob@example.org", null, digest, ticket)).code());
        assertEquals(ReturnCode.DENY, plugin.onAuth(ctx.auth("cram-md5", "bob@example.org", null, digest, "<other@ticket>")).code());
    }

    @Test
    void cramMd5DeclinesHashedEntriesAndSaysWhyOnce() {
        String ticket = "<1896.697170952@postoffice.example.net>";
        String digest = AuthFlatFile.cramMd5(ticket, "sha512 pw");
        assertEquals(ReturnCode.DECLINED, plugin.onAuth(ctx.auth("cram-md5", "frank@example.org", null, digest, ticket)).code());
        assertEquals(ReturnCode.DECLINED, plugin.onAuth(ctx.auth("cram-md5", "frank@example.org", null, digest, ticket)).code());
        assertEquals(List.of("WARN skip: frank@example.org has a hashed password, which CRAM-MD5 cannot check"),
                ctx.logged().stream().filter(line -> line.startsWith("WARN")).toList());
    }

    @Test
    void aFullPoolIsATemporaryFailure() {
        hasher.close();
        assertEquals(ReturnCode.DENYSOFT, plain("frank@example.org", "sha512 pw"));
        assertEquals(ReturnCode.OK, plain("bob@example.org", "pw"));
    }

    @Test
    void rfc2195ExampleDigest() {
        assertEquals("b913a602c7eda7a495b4e6e7334d3890",
                AuthFlatFile.cramMd5("<1896.697170952@postoffice.reston.mci.net>", "tanstaaftanstaaf"));
    }

    @Test
    void readsTheFileAgainWhenItChanges() throws IOException {
        assertEquals(ReturnCode.DECLINED, plain("zoe@example.org", "new"));
        Files.writeString(file, "zoe@example.org:new\n");
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 10_000));
        assertEquals(ReturnCode.OK, plain("zoe@example.org", "new"));
        assertEquals(ReturnCode.DECLINED, plain("bob@example.org", "pw"));
    }

    @Test
    void aMissingFileIsATemporaryFailure() throws IOException {
        Files.delete(file);
        assertEquals(ReturnCode.DENYSOFT, plain("bob@example.org", "pw"));
    }
}
