package org.postern.smtp.plugin.rcptmap.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.PreConnectionContext;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class RcptMapTest {
    private static final String MAP = """
            # example_org_map - config for rcpt_map plugin
            me@example.org           OK
            You@Example.org          OK       Welcome
            info@example.org         DENY     User not found.
            moving@example.org       DENYSOFT Mailbox moving, try tomorrow
            gone@example.org         DENYHARD
            other@example.org        DECLINED

            """;

    @TempDir
    Path folder;

    private final TestContext ctx = new TestContext();

    private RcptMap plugin(String map, String... keysAndValues) throws IOException {
        Path file = Files.writeString(folder.resolve("map_example_org"), map);
        Map<String, Object> config = new HashMap<>(Map.of("domain", "Example.ORG", "file", file.toString()));
        for (int i = 0; i < keysAndValues.length; i += 2) {
            config.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return new RcptMap(TestConfig.of(RcptMap.Config.class, config));
    }

    private HookResult rcpt(RcptMap plugin, String path) {
        return plugin.onRcpt(ctx.rcpt(path));
    }

    @Test
    void answersTheDomainsRecipientsFromTheMap() throws IOException {
        RcptMap plugin = plugin(MAP);
        assertEquals(HookResult.ok().toString(), rcpt(plugin, "<ME@example.org>").toString());
        assertEquals(HookResult.ok().toString(), rcpt(plugin, "<you@EXAMPLE.org>").toString());
        assertEquals("DENY User not found.", rcpt(plugin, "<info@example.org>").toString());
        assertEquals("DENYSOFT Mailbox moving, try tomorrow", rcpt(plugin, "<moving@example.org>").toString());
        assertEquals("DENY_DISCONNECT No such user.", rcpt(plugin, "<gone@example.org>").toString());
        assertEquals(ReturnCode.DECLINED, rcpt(plugin, "<other@example.org>").code());
        assertEquals("DENY 5.1.1 No such user.", rcpt(plugin, "<nobody@example.org>").toString());
    }

    @Test
    void leavesOtherDomainsAndAddressesWithoutDomainAlone() throws IOException {
        RcptMap plugin = plugin(MAP);
        assertEquals(ReturnCode.DECLINED, rcpt(plugin, "<info@sub.example.org>").code());
        assertEquals(ReturnCode.DECLINED, rcpt(plugin, "<info@example.net>").code());
        assertEquals(ReturnCode.DECLINED, rcpt(plugin, "<postmaster>").code());
    }

    @Test
    void theDefaultAnswerTakesUnderscoresForSpaces() throws IOException {
        assertEquals("DENYSOFT 4.1.1 Unknown here, try later", rcpt(plugin(MAP, "default", "DENYSOFT=Unknown_here,_try_later"),
                "<nobody@example.org>").toString());
        assertEquals("DENY 5.1.1 No such user.", rcpt(plugin(MAP, "default", "DENY"), "<nobody@example.org>").toString());
        assertEquals(ReturnCode.DECLINED, rcpt(plugin(MAP, "default", "DECLINED"), "<nobody@example.org>").code());
    }

    @Test
    void aConfigurationWithoutDomainFileOrAValidDefaultIsRefused() throws IOException {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> plugin(MAP, "domain", " ")).getMessage().contains("'domain'"));
        assertThrows(IllegalArgumentException.class, () -> new RcptMap(TestConfig.of(RcptMap.Config.class, Map.of("domain", "a.example"))));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> plugin(MAP, "default", "deny=lower case"))
                .getMessage().contains("'deny' is not a return code"));
    }

    @Test
    void rereadsTheMapBeforeAConnectionOnlyWhenItChanged() throws IOException {
        RcptMap plugin = plugin(MAP);
        Path file = folder.resolve("map_example_org");
        FileTime modified = Files.getLastModifiedTime(file);
        Files.writeString(file, "info@example.org OK\n");
        Files.setLastModifiedTime(file, modified);
        plugin.onPreConnection(preConnection());
        assertEquals(ReturnCode.DENY, rcpt(plugin, "<info@example.org>").code());

        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
        assertEquals(ReturnCode.DENY, rcpt(plugin, "<info@example.org>").code());
        plugin.onPreConnection(preConnection());
        assertEquals(ReturnCode.OK, rcpt(plugin, "<info@example.org>").code());
        assertEquals(ReturnCode.DENY, rcpt(plugin, "<me@example.org>").code());
    }

    @Test
    void keepsTheMapItHasWhenTheFileBreaksAndSaysSoOnce() throws IOException {
        RcptMap plugin = plugin(MAP);
        Path file = folder.resolve("map_example_org");
        Files.writeString(file, "# nothing\nbad@example.org\nworse@example.org MAYBE\n");
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
        plugin.onPreConnection(preConnection());
        Files.delete(file);
        plugin.onPreConnection(preConnection());
        plugin.onPreConnection(preConnection());
        assertEquals(ReturnCode.OK, rcpt(plugin, "<me@example.org>").code());
        assertEquals(4, ctx.logged().size(), ctx.logged().toString());
        assertEquals("ERROR No constant in line 2 in " + file, ctx.logged().get(0));
        assertEquals("ERROR Not a valid constant in line 3 in " + file, ctx.logged().get(1));
        assertEquals("ERROR map " + file + " holds no usable line; the map read before stays in use", ctx.logged().get(2));
        assertTrue(ctx.logged().get(3).startsWith("ERROR cannot read map " + file), ctx.logged().get(3));
    }

    @Test
    void defersTheDomainUntilAUsableMapAppears() throws IOException {
        RcptMap plugin = plugin("# empty\n");
        HookResult deferred = rcpt(plugin, "<me@example.org>");
        assertEquals(ReturnCode.DENYSOFT, deferred.code());
        assertEquals(Optional.of("4.3.0"), deferred.enhancedStatus());
        assertEquals(ReturnCode.DECLINED, rcpt(plugin, "<me@example.net>").code());

        Path file = folder.resolve("map_example_org");
        Files.writeString(file, MAP);
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
        plugin.onPreConnection(preConnection());
        assertEquals(ReturnCode.OK, rcpt(plugin, "<me@example.org>").code());
        assertEquals(List.of("WARN no usable map in " + file + ", deferring me@example.org"), ctx.logged());
    }

    /** pre_connection's context over the test context (the testkit has none; the plugin needs no connection counts). */
    private PreConnectionContext preConnection() {
        return (PreConnectionContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {PreConnectionContext.class},
                (proxy, method, args) -> method.invoke(ctx, args));
    }
}
