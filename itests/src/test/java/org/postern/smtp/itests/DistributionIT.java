package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.Test;

/**
 * The standalone distribution as an administrator runs it: {@code bin/postern --etc --data}, driven by real
 * clients (swaks and Python's smtplib), with a second instance beside the first.
 */
public class DistributionIT {
    @Test
    public void swaksDeliversIntoTheMaildirOfTheDataFolder() throws Exception {
        try (ServerProcess postern = ServerProcess.postern("swaks")) {
            String output = run(0, "swaks", "--server", "127.0.0.1:" + postern.port, "--from", "a@example.org",
                    "--to", "postmaster@localhost", "--header", "Subject: from swaks", "--body", "Hello from swaks.\n.dot line");
            assertTrue(output, output.contains("<-  250 2.0.0 Queued as "));
            List<Path> delivered = postern.delivered("data/maildir");
            assertEquals(1, delivered.size());
            String message = Files.readString(delivered.get(0), StandardCharsets.ISO_8859_1);
            assertTrue(message, message.contains("Subject: from swaks\n"));
            assertTrue(message, message.contains("Hello from swaks.\n.dot line\n"));

            // swaks exits with 24 when the server refuses every recipient
            String refused = run(24, "swaks", "--server", "127.0.0.1:" + postern.port, "--from", "a@example.org",
                    "--to", "someone@not-local.example", "--quit-after", "RCPT");
            assertTrue(refused, refused.contains("<** 550 5.7.1 Relaying denied"));
        }
    }

    @Test
    public void pythonSmtplibAndASecondInstanceSideBySide() throws Exception {
        try (ServerProcess first = ServerProcess.postern("first"); ServerProcess second = ServerProcess.postern("second")) {
            String script = String.join("\n",
                    "import smtplib, sys",
                    "from email.message import EmailMessage",
                    "for port in sys.argv[1:]:",
                    "    msg = EmailMessage()",
                    "    msg['From'] = 'sender@example.org'",
                    "    msg['To'] = 'postmaster@localhost'",
                    "    msg['Subject'] = 'smtplib to ' + port",
                    "    msg.set_content('caf\\u00e9 \\u2014 8-bit body\\n')",
                    "    with smtplib.SMTP('127.0.0.1', int(port), timeout=20) as smtp:",
                    "        smtp.ehlo('python.example')",
                    "        assert smtp.has_extn('pipelining') and smtp.has_extn('8bitmime') and smtp.has_extn('size')",
                    "        refused = smtp.send_message(msg)",
                    "        assert not refused, refused",
                    "print('sent')");
            String output = run(0, "python3", "-c", script, Integer.toString(first.port), Integer.toString(second.port));
            assertTrue(output, output.trim().endsWith("sent"));
            assertEquals(1, first.delivered("data/maildir").size());
            assertEquals(1, second.delivered("data/maildir").size());
            String message = Files.readString(second.delivered("data/maildir").get(0), StandardCharsets.UTF_8);
            assertTrue(message, message.contains("Subject: smtplib to " + second.port));
        }
    }

    @Test
    public void swaksAuthenticatesWithAHotDeployedAuthPluginAndRelays() throws Exception {
        Path plugin = Path.of(System.getProperty("postern.bundles"), "plugin-auth-flat-file", "target",
                "plugin-auth-flat-file-" + System.getProperty("postern.version") + ".jar");
        // AUTH in the clear, also once STARTTLS is available (tls.before.auth would make it wait for TLS)
        try (ServerProcess postern = ServerProcess.postern("auth", "", Map.of("tls.before.auth", "false"))) {
            // bob's password ("battery staple") is a bcrypt hash made with `htpasswd -nbB -C 10`
            Path passwords = Files.writeString(postern.base.resolve("flat_auth_pw"), "alice@example.org:correct horse\n"
                    + "bob@example.org:$2y$10$VgJ7ioZ7Defw.1Yxue0L0.pqCEX7zGONOhwyMuIxhKP0w0wRLtpHu\n");
            Files.writeString(postern.base.resolve("etc/org.postern.smtp.plugin.auth_flat_file.cfg"), "file = " + passwords + "\n");
            Files.copy(plugin, postern.base.resolve("deploy/auth-flat-file.jar"));
            long deadline = System.currentTimeMillis() + 15_000;
            String output = "";
            while (System.currentTimeMillis() < deadline && !output.contains("AUTH PLAIN LOGIN CRAM-MD5")) {
                Thread.sleep(200);
                output = run(0, "swaks", "--server", "127.0.0.1:" + postern.port, "--quit-after", "EHLO");
            }
            assertTrue(output, output.contains("AUTH PLAIN LOGIN CRAM-MD5"));
            for (String mechanism : List.of("PLAIN", "LOGIN")) {
                String sent = run(0, "swaks", "--server", "127.0.0.1:" + postern.port, "--auth", mechanism,
                        "--auth-user", "alice@example.org", "--auth-password", "correct horse",
                        "--from", "alice@example.org", "--to", "friend@elsewhere.example");
                assertTrue(sent, sent.contains("<-  235 2.7.0 " + mechanism + " authentication successful for alice@example.org"));
                assertTrue(sent, sent.contains("<-  250 2.1.5 <friend@elsewhere.example>, recipient ok"));
                assertTrue(sent, sent.contains("<-  250 2.0.0 Queued as "));
            }
            // swaks exits with 28 when AUTH fails
            String refused = run(28, "swaks", "--server", "127.0.0.1:" + postern.port, "--auth", "LOGIN",
                    "--auth-user", "alice@example.org", "--auth-password", "guess", "--to", "friend@elsewhere.example");
            assertTrue(refused, refused.contains("535 5.7.8 LOGIN authentication failed for alice@example.org"));
            String hashed = run(0, "swaks", "--server", "127.0.0.1:" + postern.port, "--auth", "PLAIN",
                    "--auth-user", "bob@example.org", "--auth-password", "battery staple",
                    "--from", "bob@example.org", "--to", "friend@elsewhere.example");
            assertTrue(hashed, hashed.contains("<-  235 2.7.0 PLAIN authentication successful for bob@example.org"));
            String wrong = run(28, "swaks", "--server", "127.0.0.1:" + postern.port, "--auth", "PLAIN",
                    "--auth-user", "bob@example.org", "--auth-password", "battery stapler", "--to", "friend@elsewhere.example");
            assertTrue(wrong, wrong.contains("535 5.7.8 PLAIN authentication failed for bob@example.org"));
            assertEquals(3, postern.delivered("data/maildir").size());
        }
    }

    /** Runs a real client; checks its exit status and returns what it printed. */
    static String run(int expectedExit, String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(String.join(" ", command) + " timed out", process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(output, expectedExit, process.exitValue());
        return output;
    }
}
