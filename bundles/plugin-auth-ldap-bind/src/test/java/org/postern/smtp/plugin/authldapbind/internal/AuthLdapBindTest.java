package org.postern.smtp.plugin.authldapbind.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.listener.InMemoryDirectoryServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServerConfig;
import com.unboundid.ldap.listener.InMemoryListenerConfig;
import com.unboundid.ldap.listener.interceptor.InMemoryInterceptedSearchRequest;
import com.unboundid.ldap.listener.interceptor.InMemoryInterceptedSimpleBindRequest;
import com.unboundid.ldap.listener.interceptor.InMemoryOperationInterceptor;
import com.unboundid.util.ssl.KeyStoreKeyManager;
import com.unboundid.util.ssl.SSLUtil;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

/**
 * The plugin against UnboundID's in-memory directory server, which records every bind and search it gets: on a
 * plain port, with StartTLS and on an ldaps port (a certificate for 127.0.0.1 made with keytool).
 */
class AuthLdapBindTest {
    private static final String BASE = "dc=example,dc=org";
    private static final String ALICE = "uid=alice,ou=people,dc=example,dc=org";
    private static final String SERVICE = "cn=postern,dc=example,dc=org";
    private static final List<String> BINDS = new CopyOnWriteArrayList<>();
    private static final List<String> SEARCHES = new CopyOnWriteArrayList<>();
    @TempDir
    static Path folder;
    private static InMemoryDirectoryServer server;
    private static Path caFile;

    private final TestContext ctx = new TestContext();

    @BeforeAll
    static void startDirectory() throws Exception {
        Path keystore = folder.resolve("ldap.p12");
        caFile = folder.resolve("ca.pem");
        keytool("-genkeypair", "-alias", "ldap", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=ldap test",
                "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore", keystore.toString(),
                "-storepass", "changeit", "-keypass", "changeit");
        keytool("-exportcert", "-rfc", "-alias", "ldap", "-keystore", keystore.toString(), "-storepass", "changeit",
                "-file", caFile.toString());
        SSLUtil tls = new SSLUtil(new KeyStoreKeyManager(keystore.toFile(), "changeit".toCharArray(), "PKCS12", "ldap"), null);
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        InMemoryDirectoryServerConfig config = new InMemoryDirectoryServerConfig(BASE);
        config.setListenerConfigs(
                InMemoryListenerConfig.createLDAPConfig("plain", loopback, 0, tls.createSSLSocketFactory()),
                InMemoryListenerConfig.createLDAPSConfig("ldaps", loopback, 0, tls.createSSLServerSocketFactory(), null));
        config.addAdditionalBindCredentials(SERVICE, "service secret");
        config.addInMemoryOperationInterceptor(new InMemoryOperationInterceptor() {
            @Override
            public void processSimpleBindRequest(InMemoryInterceptedSimpleBindRequest request) {
                BINDS.add(request.getRequest().getBindDN());
            }

            @Override
            public void processSearchRequest(InMemoryInterceptedSearchRequest request) {
                SEARCHES.add(request.getRequest().getFilter().toString());
            }
        });
        server = new InMemoryDirectoryServer(config);
        server.add("dn: " + BASE, "objectClass: domain", "dc: example");
        for (String ou : List.of("people", "other")) {
            server.add("dn: ou=" + ou + "," + BASE, "objectClass: organizationalUnit", "ou: " + ou);
        }
        server.add("dn: " + ALICE, "objectClass: inetOrgPerson", "uid: alice", "cn: Alice", "sn: A", "mail: alice@example.org",
                "userPassword: correct horse");
        // the same uid twice: no one can tell which entry "dup" means
        for (String ou : List.of("people", "other")) {
            server.add("dn: uid=dup,ou=" + ou + "," + BASE, "objectClass: inetOrgPerson", "uid: dup", "cn: Dup", "sn: D",
                    "userPassword: dup");
        }
        server.startListening();
    }

    private static void keytool(String... arguments) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertEquals(0, process.waitFor(), output);
    }

    @AfterAll
    static void stopDirectory() {
        server.shutDown(true);
    }

    @BeforeEach
    void forget() {
        BINDS.clear();
        SEARCHES.clear();
    }

    private static AuthLdapBind plugin(Map<String, Object> keys) {
        Map<String, Object> all = new HashMap<>(Map.of("ldap_base", BASE, "ldap_port", server.getListenPort("plain"), "ldap_timeout", 1));
        all.putAll(keys);
        return new AuthLdapBind(TestConfig.of(AuthLdapBind.Config.class, all));
    }

    private ReturnCode check(AuthLdapBind plugin, String user, String password) {
        HookResult answer = plugin.onAuth(ctx.auth("plain", user, password, null, null));
        try {
            return HookResults.settled(answer).code();
        } finally {
            plugin.deactivate();
        }
    }

    private ReturnCode check(String user, String password) {
        return check(plugin(Map.of()), user, password);
    }

    @Test
    void theRightPasswordBindsAsTheUsersEntryFoundByAnAnonymousSearch() {
        HookResult answer = plugin(Map.of()).onAuth(ctx.auth("plain", "Alice@example.org", "correct horse", null, null));
        assertTrue(answer.pending().isPresent(), "the LDAP exchange runs off the hook thread");
        assertEquals(ReturnCode.OK, HookResults.settled(answer).code());
        assertEquals(List.of("(uid=alice)"), SEARCHES);
        assertEquals(List.of(ALICE), BINDS);
        assertTrue(ctx.logged().contains("INFO pass: Alice@example.org bound as " + ALICE), ctx.logged().toString());
    }

    @Test
    void aWrongPasswordIsDeniedAndAnUnknownUserDeclined() {
        assertEquals(ReturnCode.DENY, check("alice@example.org", "guess"));
        assertEquals(ReturnCode.DECLINED, check("mallory@example.org", "guess"));
        assertEquals(List.of(ALICE), BINDS, "no bind for a user who has no entry");
    }

    @Test
    void wildcardsAndFilterSyntaxInTheUserNameMatchNothing() {
        // unescaped, "ali*" would find alice alone, and her password would let it in
        assertEquals(ReturnCode.DECLINED, check("ali*", "correct horse"));
        assertEquals(ReturnCode.DECLINED, check("*", "correct horse"));
        assertEquals(ReturnCode.DECLINED, check("alice)(uid=*", "correct horse"));
        assertEquals(ReturnCode.DECLINED, check("*)(|(uid=*", "correct horse"));
        assertEquals(List.of("(uid=ali\\2a)", "(uid=\\2a)", "(uid=alice\\29\\28uid=\\2a)", "(uid=\\2a\\29\\28|\\28uid=\\2a)"), SEARCHES);
        assertEquals(List.of(), BINDS);
    }

    @Test
    void anEmptyPasswordIsDeniedWithoutAskingTheDirectory() {
        HookResult answer = plugin(Map.of()).onAuth(ctx.auth("plain", "alice", "", null, null));
        assertEquals(ReturnCode.DENY, answer.code());
        assertTrue(answer.pending().isEmpty());
        assertEquals(List.of(), SEARCHES);
        assertEquals(List.of(), BINDS);
    }

    @Test
    void anAmbiguousNameIsDeclinedAndLogged() {
        assertEquals(ReturnCode.DECLINED, check("dup", "dup"));
        assertEquals(List.of(), BINDS);
        assertTrue(ctx.logged().contains("ERROR fail: more than one entry with (uid=dup); refusing to guess which"), ctx.logged().toString());
    }

    @Test
    void theSearchBindsAsLdapBindDnFirst() {
        Map<String, Object> service = Map.of("ldap_bind_dn", SERVICE, "ldap_bind_password", "service secret");
        assertEquals(ReturnCode.OK, check(plugin(service), "alice", "correct horse"));
        assertEquals(List.of(SERVICE, ALICE), BINDS);
        assertEquals(ReturnCode.DENYSOFT, check(plugin(Map.of("ldap_bind_dn", SERVICE, "ldap_bind_password", "old")), "alice", "correct horse"));
        assertTrue(ctx.logged().get(ctx.logged().size() - 1).contains("the directory refused ldap_bind_dn " + SERVICE), ctx.logged().toString());
    }

    @Test
    void theMailAttributeWithTheWholeAddress() {
        Map<String, Object> byMail = Map.of("ldap_auth_filter_attr", "mail", "ldap_strip_domain", false);
        assertEquals(ReturnCode.OK, check(plugin(byMail), "alice@example.org", "correct horse"));
        assertEquals(List.of("(mail=alice@example.org)"), SEARCHES);
    }

    @Test
    void startTlsAndLdapsTrustingTheCaFile() {
        Map<String, Object> startTls = Map.of("ldap_tls", "starttls", "ldap_tls_ca_file", caFile.toString());
        assertEquals(ReturnCode.OK, check(plugin(startTls), "alice", "correct horse"));
        assertEquals(ReturnCode.DENY, check(plugin(startTls), "alice", "guess"));
        Map<String, Object> ldaps = Map.of("ldap_tls", "ldaps", "ldap_tls_ca_file", caFile.toString(), "ldap_port", server.getListenPort("ldaps"));
        assertEquals(ReturnCode.OK, check(plugin(ldaps), "alice", "correct horse"));
        assertEquals(ReturnCode.DENY, check(plugin(ldaps), "alice", "guess"));
        assertEquals(List.of(ALICE, ALICE, ALICE, ALICE), BINDS);
    }

    @Test
    void anUntrustedCertificateOrAnotherNameIsATemporaryFailureBeforeAnyBind() throws Exception {
        int ldapsPort = server.getListenPort("ldaps");
        // the JVM's CAs did not sign the test certificate
        assertEquals(ReturnCode.DENYSOFT, check(plugin(Map.of("ldap_tls", "starttls")), "alice", "correct horse"));
        assertEquals(ReturnCode.DENYSOFT, check(plugin(Map.of("ldap_tls", "ldaps", "ldap_port", ldapsPort)), "alice", "correct horse"));
        // the certificate names 127.0.0.1, not localhost
        Map<String, Object> byName = Map.of("ldap_host", "localhost", "ldap_tls_ca_file", caFile.toString());
        Map<String, Object> startTls = new HashMap<>(byName);
        startTls.put("ldap_tls", "starttls");
        Map<String, Object> ldaps = new HashMap<>(byName);
        ldaps.putAll(Map.of("ldap_tls", "ldaps", "ldap_port", ldapsPort));
        assertEquals("127.0.0.1", InetAddress.getByName("localhost").getHostAddress(), "JNDI connects to localhost's first address");
        assertEquals(ReturnCode.DENYSOFT, check(plugin(startTls), "alice", "correct horse"));
        assertTrue(ctx.logged().get(ctx.logged().size() - 1).contains("match"), ctx.logged().toString());
        assertEquals(ReturnCode.DENYSOFT, check(plugin(ldaps), "alice", "correct horse"));
        assertTrue(ctx.logged().get(ctx.logged().size() - 1).contains("match"), ctx.logged().toString());
        assertEquals(List.of(), BINDS);
    }

    @Test
    void aDirectoryThatIsDownOrSilentIsATemporaryFailureWithinTheTimeout() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            closed = socket.getLocalPort();
        }
        assertEquals(ReturnCode.DENYSOFT, check(plugin(Map.of("ldap_port", closed)), "alice", "correct horse"));
        assertTrue(ctx.logged().get(ctx.logged().size() - 1).startsWith("ERROR skip: LDAP 127.0.0.1:" + closed), ctx.logged().toString());
        // connections complete in the backlog, but nothing ever answers
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            long start = System.nanoTime();
            assertEquals(ReturnCode.DENYSOFT, check(plugin(Map.of("ldap_port", silent.getLocalPort())), "alice", "correct horse"));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis >= 900 && millis < 5000, millis + " ms");
        }
        // nothing listens on 127.0.0.2 (the server is bound to 127.0.0.1): the second host answers
        assertEquals(ReturnCode.OK, check(plugin(Map.of("ldap_host", "127.0.0.2, 127.0.0.1")), "alice", "correct horse"));
    }
}
