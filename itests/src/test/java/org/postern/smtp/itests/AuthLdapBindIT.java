package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.ExternalResource;

/**
 * auth_ldap_bind against a real OpenLDAP: Debian's slapd, run by the test as the current user with its own
 * slapd.conf, database and certificate in a temporary folder (never the system's instance), on free loopback ports
 * for ldap:// (StartTLS too) and ldaps://. Three Postern servers use it: anonymous search in the clear, StartTLS with
 * a search account, and ldaps://; qpsmtpd 0.94's plugin runs beside the first with the same settings. Clients are
 * swaks, Python's smtplib and a raw socket.
 */
public class AuthLdapBindIT {
    private static final String BASE = "dc=example,dc=org";
    private static final String SERVICE = "cn=postern," + BASE;
    private static final String PASSWORD = "correct horse";
    @ClassRule
    public static final Slapd SLAPD = new Slapd();
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess qpsmtpd;
    private static ServerProcess plain;
    private static ServerProcess startTls;
    private static ServerProcess ldaps;

    @BeforeClass
    public static void startServers() throws Exception {
        String common = "ldap_host = 127.0.0.1\nldap_base = " + BASE + "\nldap_timeout = 2\n";
        plain = SERVERS.add(postern("ldap-plain", common + "ldap_port = " + SLAPD.ldapPort));
        startTls = SERVERS.add(postern("ldap-starttls", common + "ldap_port = " + SLAPD.ldapPort
                + "\nldap_tls = starttls\nldap_tls_ca_file = " + SLAPD.certificate
                + "\nldap_bind_dn = " + SERVICE + "\nldap_bind_password = service secret"));
        ldaps = SERVERS.add(postern("ldap-ldaps", common + "ldap_port = " + SLAPD.ldapsPort
                + "\nldap_tls = ldaps\nldap_tls_ca_file = " + SLAPD.certificate));
        // qpsmtpd's plugin reads its settings from the config item "ldap", one "key value" per line
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"),
                Map.of("ldap", "ldap_base " + BASE + "\nldap_host 127.0.0.1\nldap_port " + SLAPD.ldapPort + "\n"),
                "auth/auth_ldap_bind"));
    }

    private static ServerProcess postern(String name, String pluginConfig) throws Exception {
        return ServerProcess.posternWithPlugins(name, Map.of(
                        // AUTH offered in the clear, as to qpsmtpd; short delays after failures keep the test quick
                        "org.postern.smtp.server.cfg", "tls.self.signed = false\nauth.failure.delay.ms = 100",
                        "org.postern.smtp.plugin.auth_ldap_bind.cfg", pluginConfig),
                List.of("plugin-auth-ldap-bind")).awaitPlugin("auth_ldap_bind");
    }

    private static String swaks(int expectedExit, ServerProcess server, String mechanism, String user, String password) throws Exception {
        return DistributionIT.run(expectedExit, "swaks", "--server", "127.0.0.1:" + server.port, "--auth", mechanism,
                "--auth-user", user, "--auth-password", password, "--quit-after", "AUTH");
    }

    /** The reply to AUTH PLAIN, without enhanced status codes (qpsmtpd sends none). */
    private static String plain(ServerProcess server, String user, String password) throws IOException {
        try (SmtpClient client = new SmtpClient(server.port)) {
            client.reply();
            client.command("EHLO client.example");
            String credentials = "\0" + user + "\0" + password;
            return ClientScript.comparable(client.command("AUTH PLAIN "
                    + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8))));
        }
    }

    @Test
    public void swaksLogsInWithPlainAndLoginWhereQpsmtpdNeverDoes() throws Exception {
        for (ServerProcess server : List.of(plain, startTls, ldaps)) {
            for (String mechanism : List.of("PLAIN", "LOGIN")) {
                String output = swaks(0, server, mechanism, "alice@example.org", PASSWORD);
                assertTrue(output, output.contains("<-  235 2.7.0 " + mechanism + " authentication successful for alice@example.org"));
            }
        }
        assertTrue(swaks(0, plain, "PLAIN", "bob", "bob's clear password").contains("<-  235 2.7.0 "));
        // qpsmtpd 0.94 reads "user not found" into every entry it finds ("!$mesg->count or $lduserdn = ..." is true
        // whenever there is one), so it declines everyone
        String reference = swaks(28, qpsmtpd, "PLAIN", "alice@example.org", PASSWORD);
        assertTrue(reference, reference.contains("<** 535 PLAIN authentication failed for alice@example.org"));
        assertTrue(qpsmtpd.log(), qpsmtpd.log().contains("auth::auth_ldap_bind: fail: user not found"));
    }

    @Test
    public void aWrongPasswordAnUnknownUserAndWildcardsGet535AsFromQpsmtpd() throws Exception {
        String output = swaks(28, plain, "LOGIN", "alice@example.org", "guess");
        assertTrue(output, output.contains("<** 535 5.7.8 LOGIN authentication failed for alice@example.org"));
        output = swaks(28, plain, "PLAIN", "mallory@example.org", PASSWORD);
        assertTrue(output, output.contains("<** 535 5.7.8 PLAIN authentication failed for mallory@example.org"));
        for (String user : List.of("alice@example.org", "mallory", "*", "alice)(uid=*")) {
            String password = user.startsWith("alice@") ? "guess" : PASSWORD;
            String reply = plain(plain, user, password);
            assertEquals("535 PLAIN authentication failed for " + user, reply);
            assertEquals(user, plain(qpsmtpd, user, password), reply);
        }
    }

    @Test
    public void aWildcardInTheUserNameFindsNoOne() throws Exception {
        int before = SLAPD.log().length();
        assertEquals("535 PLAIN authentication failed for ali*", plain(plain, "ali*", PASSWORD));
        String search = SLAPD.log().substring(before);
        assertTrue(search, search.contains("filter=\"(uid=ali\\2A)\"") && search.contains("nentries=0"));
        // qpsmtpd puts the name into the filter as it is, and finds alice: only its DN bug keeps it from binding
        before = SLAPD.log().length();
        assertEquals("535 PLAIN authentication failed for ali*", plain(qpsmtpd, "ali*", PASSWORD));
        search = SLAPD.log().substring(before);
        assertTrue(search, search.contains("filter=\"(uid=ali*)\"") && search.contains("nentries=1"));
    }

    @Test
    public void anEmptyPasswordNeverReachesTheDirectory() throws Exception {
        int before = SLAPD.log().length();
        assertTrue(plain(plain, "alice", "").startsWith("535 "));
        try (SmtpClient client = new SmtpClient(plain.port)) {
            client.reply();
            client.command("EHLO client.example");
            client.command("AUTH LOGIN");
            client.command(Base64.getEncoder().encodeToString("alice".getBytes(StandardCharsets.UTF_8)));
            assertTrue(client.command("").startsWith("535 "));
        }
        // slapd logs each operation as it arrives, before answering, so a bind would be in the log by now
        String exchanges = SLAPD.log().substring(before);
        assertFalse(exchanges, exchanges.contains("BIND dn="));
    }

    @Test
    public void onlyTheSearchAccountSeesCarolAndItSearchesAfterStartTls() throws Exception {
        assertEquals("535 PLAIN authentication failed for carol", plain(plain, "carol", "carol's password"));
        int before = SLAPD.log().length();
        assertEquals("235 PLAIN authentication successful for carol", plain(startTls, "carol", "carol's password"));
        String exchange = SLAPD.log().substring(before);
        int tls = exchange.indexOf("EXT oid=1.3.6.1.4.1.1466.20037");
        int service = exchange.indexOf("BIND dn=\"" + SERVICE + "\"");
        int search = exchange.indexOf("SRCH base=\"" + BASE + "\"");
        int user = exchange.indexOf("BIND dn=\"uid=carol,ou=staff," + BASE + "\"");
        assertTrue(exchange, tls >= 0 && tls < service && service < search && search < user);
    }

    @Test
    public void pythonSmtplibLogsInAndRelaysAndIsRefusedAWrongPassword() throws Exception {
        String script = String.join("\n",
                "import smtplib, sys",
                "with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20) as smtp:",
                "    smtp.ehlo('python.example')",
                "    try:",
                "        smtp.login('alice@example.org', 'guess')",
                "        raise SystemExit('a wrong password was accepted')",
                "    except smtplib.SMTPAuthenticationError as e:",
                "        assert e.smtp_code == 535, e",
                "with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20) as smtp:",
                "    smtp.ehlo('python.example')",
                "    code, text = smtp.login('alice@example.org', sys.argv[2])",
                "    assert code == 235, (code, text)",
                "    smtp.sendmail('alice@example.org', ['friend@elsewhere.example'], 'Subject: hi\\r\\n\\r\\nbody\\r\\n')",
                "print('relayed')");
        String output = DistributionIT.run(0, "python3", "-c", script, Integer.toString(startTls.port), PASSWORD);
        assertTrue(output, output.contains("relayed"));
    }

    @Test
    public void slapdStoppedIs454UntilItIsBack() throws Exception {
        SLAPD.stop();
        try {
            String output = swaks(28, plain, "PLAIN", "alice@example.org", PASSWORD);
            assertTrue(output, output.contains("<** 454 4.7.0 PLAIN authentication failed temporarily for alice@example.org - LDAP server unavailable"));
            output = swaks(28, startTls, "LOGIN", "alice@example.org", PASSWORD);
            assertTrue(output, output.contains("<** 454 4.7.0 LOGIN authentication failed temporarily"));
            // qpsmtpd declines ("skip: error in initial conn"), which ends in 535
            assertEquals("535 PLAIN authentication failed for alice@example.org", plain(qpsmtpd, "alice@example.org", PASSWORD));
            assertTrue(plain.log(), plain.log().contains("skip: LDAP 127.0.0.1:" + SLAPD.ldapPort));
        } finally {
            SLAPD.start();
        }
        assertTrue(swaks(0, plain, "PLAIN", "alice@example.org", PASSWORD).contains("<-  235 2.7.0 "));
    }

    /**
     * Debian's slapd on two free loopback ports (ldap:// with StartTLS, and ldaps://), with a self-signed certificate
     * for 127.0.0.1, an mdb database loaded with slapadd, and its statistics log (-d 256: connections and
     * operations) in slapd.log. Users: alice ({SSHA} password), bob (clear password) under ou=people, which anyone
     * may search; carol under ou=staff, which only authenticated clients may search; the search account
     * cn=postern.
     */
    static final class Slapd extends ExternalResource {
        int ldapPort;
        int ldapsPort;
        Path certificate;
        private Path folder;
        private Process process;

        @Override
        protected void before() throws Throwable {
            folder = Files.createTempDirectory("slapd");
            ldapPort = freePort();
            ldapsPort = freePort();
            certificate = folder.resolve("cert.pem");
            DistributionIT.run(0, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", folder.resolve("key.pem").toString(), "-out", certificate.toString(), "-days", "2",
                    "-subj", "/CN=ldap test", "-addext", "subjectAltName=IP:127.0.0.1");
            Files.createDirectories(folder.resolve("db"));
            Files.writeString(folder.resolve("slapd.conf"), String.join("\n",
                    "include /etc/ldap/schema/core.schema",
                    "include /etc/ldap/schema/cosine.schema",
                    "include /etc/ldap/schema/inetorgperson.schema",
                    "modulepath /usr/lib/ldap",
                    "moduleload back_mdb",
                    "pidfile " + folder.resolve("slapd.pid"),
                    "argsfile " + folder.resolve("slapd.args"),
                    "TLSCertificateFile " + certificate,
                    "TLSCertificateKeyFile " + folder.resolve("key.pem"),
                    "database mdb",
                    "maxsize 10485760",
                    "suffix \"" + BASE + "\"",
                    "directory " + folder.resolve("db"),
                    "access to attrs=userPassword by anonymous auth by * none",
                    "access to dn.subtree=\"ou=staff," + BASE + "\" by users read by anonymous auth",
                    "access to * by * read",
                    ""));
            Files.writeString(folder.resolve("users.ldif"), String.join("\n",
                    "dn: " + BASE, "objectClass: dcObject", "objectClass: organization", "o: Example", "dc: example", "",
                    "dn: " + SERVICE, "objectClass: person", "cn: postern", "sn: Postern", "userPassword: service secret", "",
                    "dn: ou=people," + BASE, "objectClass: organizationalUnit", "ou: people", "",
                    "dn: ou=staff," + BASE, "objectClass: organizationalUnit", "ou: staff", "",
                    person("alice", "people", ssha(PASSWORD)),
                    person("bob", "people", "bob's clear password"),
                    person("carol", "staff", "carol's password")));
            DistributionIT.run(0, "/usr/sbin/slapadd", "-f", folder.resolve("slapd.conf").toString(), "-l", folder.resolve("users.ldif").toString());
            start();
        }

        private static String person(String uid, String ou, String password) {
            return String.join("\n", "dn: uid=" + uid + ",ou=" + ou + "," + BASE, "objectClass: inetOrgPerson", "uid: " + uid,
                    "cn: " + uid, "sn: " + uid, "mail: " + uid + "@example.org", "userPassword: " + password, "", "");
        }

        /** RFC 2307's salted SHA-1, as slappasswd makes it. */
        private static String ssha(String password) throws Exception {
            byte[] salt = new byte[8];
            new SecureRandom().nextBytes(salt);
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(password.getBytes(StandardCharsets.UTF_8));
            sha1.update(salt);
            byte[] digest = sha1.digest();
            byte[] both = new byte[digest.length + salt.length];
            System.arraycopy(digest, 0, both, 0, digest.length);
            System.arraycopy(salt, 0, both, digest.length, salt.length);
            return "{SSHA}" + Base64.getEncoder().encodeToString(both);
        }

        /** Starts slapd in the foreground (-d keeps it there) and waits until both ports accept connections. */
        void start() throws Exception {
            process = new ProcessBuilder("/usr/sbin/slapd", "-h", "ldap://127.0.0.1:" + ldapPort + "/ ldaps://127.0.0.1:" + ldapsPort + "/",
                    "-f", folder.resolve("slapd.conf").toString(), "-d", "256")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(folder.resolve("slapd.log").toFile())).start();
            long deadline = System.currentTimeMillis() + 20_000;
            while (!(accepts(ldapPort) && accepts(ldapsPort))) {
                if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                    throw new AssertionError("slapd did not start (an AppArmor profile for /usr/sbin/slapd may keep it out of "
                            + folder + "; see dmesg):\n" + log());
                }
                Thread.sleep(50);
            }
        }

        void stop() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }

        String log() throws IOException {
            return Files.readString(folder.resolve("slapd.log"));
        }

        @Override
        protected void after() {
            try {
                if (process != null) {
                    stop();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private static boolean accepts(int port) {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                return true;
            } catch (IOException notYet) {
                return false;
            }
        }

        private static int freePort() throws IOException {
            try (ServerSocket socket = new ServerSocket(0)) {
                return socket.getLocalPort();
            }
        }
    }
}
