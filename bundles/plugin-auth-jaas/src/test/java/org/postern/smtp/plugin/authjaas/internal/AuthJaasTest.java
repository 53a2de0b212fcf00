package org.postern.smtp.plugin.authjaas.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.security.URIParameter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.AppConfigurationEntry.LoginModuleControlFlag;
import javax.security.auth.login.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class AuthJaasTest {
    /** The realm "test", set programmatically: the tests' own module, with alice's password. */
    private static final Configuration REALMS = new Configuration() {
        @Override
        public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
            return name.equals("test") ? new AppConfigurationEntry[] {new AppConfigurationEntry(RealmModule.class.getName(),
                    LoginModuleControlFlag.REQUIRED, Map.of("password", "secret"))} : null;
        }
    };

    private final TestContext ctx = new TestContext();
    private final List<AuthJaas> plugins = new ArrayList<>();

    @BeforeEach
    void reset() {
        RealmModule.reset();
    }

    @AfterEach
    void stop() {
        RealmModule.release.countDown();
        plugins.forEach(AuthJaas::deactivate);
    }

    private AuthJaas plugin(Map<String, ?> config, Configuration realms) {
        AuthJaas plugin = new AuthJaas(TestConfig.of(AuthJaas.Config.class, config), realms);
        plugins.add(plugin);
        return plugin;
    }

    private AuthJaas plugin(Map<String, ?> config) {
        return plugin(config, REALMS);
    }

    private static HookResult auth(AuthJaas plugin, String mechanism, String user, String password) {
        return plugin.onAuth(new TestContext().auth(mechanism, user, password, null, null));
    }

    private static ReturnCode plain(AuthJaas plugin, String user, String password) {
        return HookResults.settled(auth(plugin, "plain", user, password)).code();
    }

    @Test
    void logsInToTheRealmOffTheHookThread() {
        AuthJaas jaas = plugin(Map.of("realm", "test"));
        HookResult right = jaas.onAuth(ctx.auth("login", "alice", "secret", null, null));
        assertTrue(right.pending().isPresent(), "login() runs on the plugin's own threads");
        assertEquals(ReturnCode.OK, HookResults.settled(right).code());
        assertEquals(List.of("INFO pass: alice in realm test"), ctx.logged());
        assertEquals(ReturnCode.DENY, plain(jaas, "alice", "guess"));
        assertEquals(ReturnCode.DENY, plain(jaas, "locked", "secret"));
    }

    @Test
    void aUserTheRealmDoesNotKnowIsDeclined() {
        assertEquals(ReturnCode.DECLINED, plain(plugin(Map.of("realm", "test")), "mallory", "secret"));
    }

    @Test
    void aMissingRealmOrABrokenBackendIsATemporaryFailure() {
        HookResult missing = HookResults.settled(plugin(Map.of("realm", "nowhere")).onAuth(ctx.auth("plain", "alice", "secret", null, null)));
        assertEquals(ReturnCode.DENYSOFT, missing.code());
        assertTrue(ctx.logged().get(0).startsWith("ERROR skip: realm nowhere: No LoginModules configured for nowhere"), ctx.logged().toString());
        assertEquals(ReturnCode.DENYSOFT, plain(plugin(Map.of("realm", "test")), "broken", "secret"));
    }

    @Test
    void theDefaultRealmIsKarafs() {
        plain(plugin(Map.of(), new Configuration() {
            @Override
            public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
                return name.equals("karaf") ? REALMS.getAppConfigurationEntry("test") : null;
            }
        }), "alice", "secret");
        assertEquals(1, RealmModule.LOGINS.get());
    }

    @Test
    void aRealmThatDoesNotAnswerInTimeIsATemporaryFailureAndItsLoginIsInterrupted() throws InterruptedException {
        AuthJaas jaas = plugin(Map.of("realm", "test", "timeout", 1));
        long start = System.nanoTime();
        assertEquals(ReturnCode.DENYSOFT, plain(jaas, "slow", "secret"));
        assertTrue(System.nanoTime() - start >= 900_000_000L);
        long deadline = System.currentTimeMillis() + 5_000;
        while (!RealmModule.interrupted && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(RealmModule.interrupted, "the login thread is interrupted at the timeout");
    }

    @Test
    void whenEveryThreadAndQueuePlaceIsTakenAuthIsToldToComeBackAtOnce() {
        AuthJaas jaas = plugin(Map.of("realm", "test", "timeout", 30));
        List<HookResult> waiting = new ArrayList<>();
        for (int i = 0; i < AuthJaas.THREADS + AuthJaas.QUEUED; i++) {
            waiting.add(auth(jaas, "plain", "slow", "secret"));
        }
        HookResult refused = auth(jaas, "plain", "alice", "secret");
        assertTrue(refused.pending().orElseThrow().toCompletableFuture().isDone(), "answered at once");
        assertEquals(ReturnCode.DENYSOFT, HookResults.settled(refused).code());
        RealmModule.release.countDown();
        waiting.forEach(result -> assertEquals(ReturnCode.DENY, HookResults.settled(result).code()));
        assertEquals(ReturnCode.OK, plain(jaas, "alice", "secret"));
    }

    @Test
    void theUserNameIsPassedWholeOrWithoutItsDomain() {
        assertEquals(ReturnCode.DECLINED, plain(plugin(Map.of("realm", "test")), "alice@example.org", "secret"));
        assertEquals("alice@example.org", RealmModule.name);
        AuthJaas local = plugin(Map.of("realm", "test", "username", "local"));
        assertEquals(ReturnCode.OK, plain(local, "alice@example.org", "secret"));
        assertEquals("alice", RealmModule.name);
        assertEquals(ReturnCode.DECLINED, plain(local, "@example.org", "secret"));
        assertThrows(IllegalArgumentException.class, () -> plugin(Map.of("username", "domain")));
    }

    @Test
    void anEmptyPasswordNeverReachesTheRealm() {
        assertEquals(ReturnCode.DENY, plain(plugin(Map.of("realm", "test")), "alice", ""));
        assertEquals(0, RealmModule.LOGINS.get());
        assertNull(RealmModule.name);
    }

    @Test
    void loginModulesAreLoadedThroughTheSystemClassLoaderWhateverLoaderStartedThePool() throws IOException {
        Thread thread = Thread.currentThread();
        ClassLoader before = thread.getContextClassLoader();
        // the pool's threads start on this thread's first AUTH and inherit a loader that cannot see RealmModule
        try (URLClassLoader blind = new URLClassLoader(new URL[0], null)) {
            thread.setContextClassLoader(blind);
            assertEquals(ReturnCode.OK, plain(plugin(Map.of("realm", "test")), "alice", "secret"));
        } finally {
            thread.setContextClassLoader(before);
        }
        assertEquals(ClassLoader.getSystemClassLoader(), RealmModule.contextLoader);
    }

    @Test
    void realmsFromAJaasLoginConfigurationFile(@TempDir Path folder) throws IOException, NoSuchAlgorithmException {
        // the format java.security.auth.login.config points at, as the README shows it
        Path file = Files.writeString(folder.resolve("jaas.conf"), """
                postern {
                    org.postern.smtp.plugin.authjaas.internal.RealmModule required
                        password="from a file";
                };
                """);
        Configuration fromFile = Configuration.getInstance("JavaLoginConfig", new URIParameter(file.toUri()));
        AuthJaas jaas = plugin(Map.of("realm", "postern"), fromFile);
        assertEquals(ReturnCode.OK, plain(jaas, "alice", "from a file"));
        assertEquals(ReturnCode.DENY, plain(jaas, "alice", "secret"));
    }
}
