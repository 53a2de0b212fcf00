package org.postern.smtp.plugin.authflatfile.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestContext;

class AuthFlatFileTest {
    @TempDir
    Path folder;

    private Path file;
    private AuthFlatFile plugin;
    private final TestContext ctx = new TestContext();

    @BeforeEach
    void write() throws IOException {
        file = Files.writeString(folder.resolve("flat_auth_pw"), "# users\nAlice@Example.org:s3cret:with:colons\nbob@example.org:pw\n");
        plugin = new AuthFlatFile(file);
    }

    private ReturnCode plain(String user, String password) {
        return plugin.onAuth(ctx.auth("plain", user, password, null, null)).code();
    }

    @Test
    void checksClearPasswords() {
        assertEquals(ReturnCode.OK, plain("alice@example.org", "s3cret:with:colons"));
        assertEquals(ReturnCode.DENY, plain("alice@example.org", "s3cret"));
        assertEquals(ReturnCode.DECLINED, plain("carol@example.org", "pw"));
        assertEquals(ReturnCode.DECLINED, plain("bob", "pw"));
    }

    @Test
    void checksCramMd5Digests() {
        String ticket = "<1896.697170952@postoffice.example.net>";
        String digest = AuthFlatFile.cramMd5(ticket, "pw");
        assertEquals(ReturnCode.OK, plugin.onAuth(ctx.auth("cram-md5", "bob@example.org", null, digest, ticket)).code());
        assertEquals(ReturnCode.DENY, plugin.onAuth(ctx.auth("cram-md5", "bob@example.org", null, digest, "<other@ticket>")).code());
    }

    @Test
    void rfc2195ExampleDigest() {
        assertEquals("b913a602c7eda7a495b4e6e7334d3890",
                AuthFlatFile.cramMd5("<1896.697170952@postoffice.reston.mci.net>", "tanstaaftanstaaf"));
    }

    @Test
    void readsTheFileAgainWhenItChanges() throws IOException {
        assertEquals(ReturnCode.DECLINED, plain("carol@example.org", "new"));
        Files.writeString(file, "carol@example.org:new\n");
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 10_000));
        assertEquals(ReturnCode.OK, plain("carol@example.org", "new"));
        assertEquals(ReturnCode.DECLINED, plain("bob@example.org", "pw"));
    }

    @Test
    void aMissingFileIsATemporaryFailure() throws IOException {
        Files.delete(file);
        assertEquals(ReturnCode.DENYSOFT, plain("bob@example.org", "pw"));
    }
}
