package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * auth_checkpassword side by side with qpsmtpd 0.94's, both running the same small checkpassword program, a shell
 * script of the test's own (qpsmtpd runs as its own user, so the script and its folder are readable by all). A second
 * Postern is configured with a program that does not exist. Clients are swaks, Python's smtplib and a raw socket.
 */
public class AuthCheckpasswordIT {
    static final String USER = "alice@example.org";
    static final String PASSWORD = "correct horse";
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Path checkpw;
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;
    private static ServerProcess missing;

    /**
     * A checkpassword program (cr.yp.to/checkpwd/interface.html): reads user, password and timestamp, each ended by
     * NUL, on descriptor 3, and runs its argument for alice's password; a few users stand for the other outcomes.
     */
    static Path checkpassword() throws IOException {
        Path folder = Files.createTempDirectory("checkpassword");
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path script = folder.resolve("checkpw");
        Files.writeString(script, String.join("\n",
                "#!/bin/sh",
                "input=$(head -c 512 <&3 | tr '\\0' '\\n')",
                "user=$(printf '%s\\n' \"$input\" | sed -n 1p)",
                "password=$(printf '%s\\n' \"$input\" | sed -n 2p)",
                "case \"$user\" in",
                "  tempfail@*) exit 111 ;;",
                "  misused@*) exit 2 ;;",
                "  slow@*) exec sleep 60 ;;",
                "esac",
                "if [ \"$user\" = " + USER + " ] && [ \"$password\" = '" + PASSWORD + "' ]; then",
                "  exec \"$1\"",
                "fi",
                "exit 1",
                ""));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    /** Postern with auth_checkpassword (and other bundles of this build), AUTH offered in the clear as by qpsmtpd. */
    static ServerProcess postern(String name, String pluginConfig, String... otherBundles) throws Exception {
        List<String> bundles = new java.util.ArrayList<>(List.of(otherBundles));
        bundles.add("plugin-auth-checkpassword");
        ServerProcess server = ServerProcess.posternWithPlugins(name, Map.of(
                        // short delays after failures keep the test quick
                        "org.postern.smtp.server.cfg", "tls.self.signed = false\nauth.failure.delay.ms = 100",
                        "org.postern.smtp.plugin.auth_checkpassword.cfg", pluginConfig),
                bundles);
        return server.awaitPlugin("auth_checkpassword");
    }

    @BeforeClass
    public static void startServers() throws Exception {
        checkpw = checkpassword();
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(),
                "auth/auth_checkpassword checkpw " + checkpw + " true /bin/true"));
        postern = SERVERS.add(postern("checkpassword", "checkpw = " + checkpw + "\ntrue = /bin/true\ntimeout = 2"));
        missing = SERVERS.add(postern("checkpassword-missing", "checkpw = " + checkpw.resolveSibling("vchkpw")));
    }

    static String swaks(int expectedExit, ServerProcess server, String mechanism, String user, String password) throws Exception {
        return DistributionIT.run(expectedExit, "swaks", "--server", "127.0.0.1:" + server.port, "--auth", mechanism,
                "--auth-user", user, "--auth-password", password, "--quit-after", "AUTH");
    }

    /** The mechanisms EHLO offers, and the reply to AUTH PLAIN, without enhanced status codes (qpsmtpd sends none). */
    static List<String> ehloAndPlain(ServerProcess server, String user, String password) throws IOException {
        try (SmtpClient client = new SmtpClient(server.port)) {
            client.reply();
            String ehlo = client.command("EHLO client.example");
            Set<String> mechanisms = new TreeSet<>();
            ehlo.lines().filter(line -> line.matches("250[ -]AUTH .*"))
                    .forEach(line -> mechanisms.addAll(List.of(line.substring(9).split(" "))));
            String credentials = "\0" + user + "\0" + password;
            return List.of(String.join(" ", mechanisms), ClientScript.comparable(client.command("AUTH PLAIN "
                    + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)))));
        }
    }

    @Test
    public void swaksLogsInWithPlainAndLoginAsIntoQpsmtpd() throws Exception {
        for (String mechanism : List.of("PLAIN", "LOGIN")) {
            String output = swaks(0, postern, mechanism, USER, PASSWORD);
            assertTrue(output, output.contains("<-  235 2.7.0 " + mechanism + " authentication successful for " + USER + "\n"));
            // qpsmtpd adds the plugin's name to the reply
            output = swaks(0, qpsmtpd, mechanism, USER, PASSWORD);
            assertTrue(output, output.contains("<-  235 " + mechanism + " authentication successful for " + USER + " - auth_checkpassword"));
        }
    }

    @Test
    public void aWrongPasswordOrUnknownUserIs535AsFromQpsmtpd() throws Exception {
        for (String user : List.of(USER, "mallory@example.org")) {
            List<String> reference = ehloAndPlain(qpsmtpd, user, "guess");
            assertEquals(List.of("LOGIN PLAIN", "535 PLAIN authentication failed for " + user), reference);
            assertEquals(reference, ehloAndPlain(postern, user, "guess"));
        }
        String output = swaks(28, postern, "LOGIN", USER, "guess");
        assertTrue(output, output.contains("<** 535 5.7.8 LOGIN authentication failed for " + USER + "\n"));
        assertTrue(postern.log(), postern.log().contains("fail: " + checkpw + " refused " + USER));
    }

    @Test
    public void aTemporaryFailureOfTheProgramIs454WhereQpsmtpdSays535() throws Exception {
        String output = swaks(28, postern, "PLAIN", "tempfail@example.org", PASSWORD);
        assertTrue(output, output.contains("<** 454 4.7.0 PLAIN authentication failed temporarily for tempfail@example.org"
                + " - Authentication backend unavailable\n"));
        assertTrue(postern.log(), postern.log().contains("skip: " + checkpw + " failed temporarily for tempfail@example.org (exit 111)"));
        assertEquals("535 PLAIN authentication failed for tempfail@example.org",
                ehloAndPlain(qpsmtpd, "tempfail@example.org", PASSWORD).get(1));
    }

    @Test
    public void aMissingProgramIs454AndLogged() throws Exception {
        // qpsmtpd checks the program once, when it loads the plugin, and then offers no AUTH at all
        String output = swaks(28, missing, "PLAIN", USER, PASSWORD);
        assertTrue(output, output.contains("<** 454 4.7.0 PLAIN authentication failed temporarily for " + USER
                + " - Authentication backend unavailable\n"));
        assertTrue(missing.log(), missing.log().contains("skip: " + checkpw.resolveSibling("vchkpw") + " is not an executable program"));
    }

    @Test
    public void aSlowProgramIsKilledAtTheTimeoutAnd454() throws Exception {
        long started = System.nanoTime();
        String output = swaks(28, postern, "LOGIN", "slow@example.org", PASSWORD);
        long tookMillis = (System.nanoTime() - started) / 1_000_000;
        assertTrue(output, output.contains("<** 454 4.7.0 LOGIN authentication failed temporarily for slow@example.org"));
        assertTrue(tookMillis + " ms", tookMillis >= 1900 && tookMillis < 10_000);
        assertTrue(postern.log(), postern.log().contains("skip: " + checkpw + " did not exit within 2 s; killed"));
    }

    @Test
    public void pythonSmtplibLogsInWithPlainAndLoginAndRelaysOnBothServers() throws Exception {
        String script = String.join("\n",
                "import smtplib, sys",
                "port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]",
                "for mechanism in ('PLAIN', 'LOGIN'):",
                "    with smtplib.SMTP('127.0.0.1', port, timeout=20) as smtp:",
                "        smtp.ehlo('python.example')",
                "        smtp.user, smtp.password = user, 'guess'",
                "        try:",
                "            smtp.auth(mechanism, getattr(smtp, 'auth_' + mechanism.lower()))",
                "            raise SystemExit('a wrong password was accepted')",
                "        except smtplib.SMTPAuthenticationError as e:",
                "            assert e.smtp_code == 535, e",
                "        smtp.password = password",
                "        code, text = smtp.auth(mechanism, getattr(smtp, 'auth_' + mechanism.lower()))",
                "        assert code == 235, (mechanism, code, text)",
                "        refused = smtp.sendmail(user, ['friend@elsewhere.example'], 'Subject: hi\\r\\n\\r\\nbody\\r\\n')",
                "        assert not refused, refused",
                "print('relayed twice')");
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            String output = DistributionIT.run(0, "python3", "-c", script, Integer.toString(server.port), USER, PASSWORD);
            assertTrue(output, output.contains("relayed twice"));
        }
    }
}
