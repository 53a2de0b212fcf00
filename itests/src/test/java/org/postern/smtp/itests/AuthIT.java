package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.composite;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postern.smtp.api.AuthContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;

/**
 * AUTH (RFC 4954) with the auth hooks of authentication.pod: PLAIN, LOGIN and CRAM-MD5 over a raw socket and
 * with Python's smtplib, failures, sequence errors, and what an authenticated client may do.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class AuthIT extends PosternTestSupport {
    private static final String USER = "alice@example.org";
    private static final String PASSWORD = "correct horse";
    /** Short delays keep the suite fast; the brute-force test checks them. */
    private static final Map<String, Object> SETTINGS = Map.of("auth.failure.delay.ms", 100, "auth.failure.delay.max.ms", 400);
    private static int port;
    /** The guessing client's own address, so that its budget is not shared with the other tests' failures. */
    private static final String GUESSER = "127.0.0.9";
    private final List<String> asked = new CopyOnWriteArrayList<>();

    @Override
    @Configuration
    public Option[] config() {
        return new Option[] {composite(super.config()), postern("plugin-rcpt-ok"), postern("plugin-queue-discard")};
    }

    @Before
    public void start() throws Exception {
        if (port == 0) {
            configItems(Map.of("rcpthosts", "example.org"));
            configAdmin.getConfiguration("org.postern.smtp.plugin.queue.discard", "?").update(new java.util.Hashtable<>(Map.of("on", "yes")));
            port = startServer(SETTINGS);
        }
        // A specific plugin for PLAIN that only knows nobody, then the catch-all "auth" plugin with the account.
        hook(HookType.AUTH_PLAIN, 10, ctx -> {
            asked.add("auth-plain");
            return HookResult.declined();
        });
        hook(HookType.AUTH, 10, ctx -> {
            AuthContext auth = (AuthContext) ctx;
            asked.add("auth:" + auth.mechanism());
            if (!auth.user().equals(USER)) {
                return HookResult.declined();
            }
            boolean good = auth.clearPassword().map(PASSWORD::equals)
                    .orElseGet(() -> auth.hashedPassword().orElse("").equals(cramMd5(auth.ticket().orElseThrow(), PASSWORD)));
            return good ? HookResult.ok() : HookResult.deny("wrong password");
        });
    }

    private static String cramMd5(String ticket, String password) {
        try {
            Mac mac = Mac.getInstance("HmacMD5");
            mac.init(new SecretKeySpec(password.getBytes(StandardCharsets.UTF_8), "HmacMD5"));
            return HexFormat.of().formatHex(mac.doFinal(ticket.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static SmtpClient ehlo() throws Exception {
        return ehlo(port);
    }

    private static SmtpClient ehlo(int port) throws Exception {
        return ehlo(port, null);
    }

    private static SmtpClient ehlo(int port, String localAddress) throws Exception {
        SmtpClient client = new SmtpClient(port, localAddress);
        client.reply();
        String ehlo = client.command("EHLO client.example");
        assertTrue(ehlo, ehlo.endsWith("\n250 AUTH PLAIN LOGIN CRAM-MD5"));
        return client;
    }

    @Test
    public void plainWithInitialResponseThenRelayWithESMTPA() throws Exception {
        try (SmtpClient client = ehlo()) {
            assertEquals("235 2.7.0 PLAIN authentication successful for " + USER,
                    client.command("AUTH PLAIN " + b64("\0" + USER + "\0" + PASSWORD)));
            assertEquals(List.of("auth-plain", "auth:plain"), asked);
            assertEquals("503 5.5.1 but you already said AUTH ...", client.command("AUTH PLAIN " + b64("\0x\0y")));
            client.command("MAIL FROM:<" + USER + ">");
            assertTrue(client.command("RCPT TO:<friend@elsewhere.example>").startsWith("250 2.1.5"));
            hook(HookType.DATA_POST, 10, ctx -> {
                String received = ctx.transaction().header().orElseThrow().get("Received").get(0);
                String results = ctx.transaction().header().orElseThrow().get("Authentication-Results").get(0);
                boolean mechanismSeen = ctx.session().authMechanism().equals(java.util.Optional.of("PLAIN"));
                return received.contains(" with ESMTPA id ") && mechanismSeen
                        && results.strip().equals("test.postern; auth=pass (PLAIN) smtp.auth=" + USER)
                        ? HookResult.declined() : HookResult.deny("Received: " + received + " / A-R: " + results);
            });
            client.command("DATA");
            assertEquals("250 2.0.0 Discarded", client.command("Subject: relayed\r\n\r\nbody\r\n."));
        }
    }

    @Test
    public void loginStepByStepAndCramMd5() throws Exception {
        try (SmtpClient client = ehlo()) {
            assertEquals("334 VXNlcm5hbWU6", client.command("AUTH LOGIN"));
            assertEquals("334 UGFzc3dvcmQ6", client.command(b64(USER)));
            assertEquals("235 2.7.0 LOGIN authentication successful for " + USER, client.command(b64(PASSWORD)));
        }
        try (SmtpClient client = ehlo()) {
            String challenge = client.command("AUTH CRAM-MD5");
            assertTrue(challenge, challenge.startsWith("334 "));
            String ticket = new String(Base64.getDecoder().decode(challenge.substring(4)), StandardCharsets.UTF_8);
            assertTrue(ticket, ticket.matches("<[0-9a-f]+\\.[0-9a-f]+@test\\.postern>"));
            assertEquals("235 2.7.0 CRAM-MD5 authentication successful for " + USER,
                    client.command(b64(USER + " " + cramMd5(ticket, PASSWORD))));
        }
    }

    @Test
    public void failuresAndSequenceErrors() throws Exception {
        try (SmtpClient client = ehlo()) {
            // the plugin's reason ("wrong password") is logged, never told: a guesser cannot tell users apart
            assertEquals("535 5.7.8 PLAIN authentication failed for " + USER,
                    client.command("AUTH PLAIN " + b64("\0" + USER + "\0guess")));
            assertEquals("535 5.7.8 PLAIN authentication failed for mallory@example.org",
                    client.command("AUTH PLAIN " + b64("\0mallory@example.org\0x")));
            assertEquals("504 5.5.4 Unimplemented authentication mechanism: gssapi", client.command("AUTH GSSAPI"));
            assertEquals("501 5.5.2 Cannot decode the authentication data (base64 expected)", client.command("AUTH PLAIN !!!"));
            assertEquals("334 ", client.command("AUTH PLAIN"));
            assertEquals("501 5.7.0 Authentication canceled", client.command("*"));
            assertEquals("535 5.7.8 Authentication invalid for " + USER, client.command("AUTH PLAIN " + b64("boss\0" + USER + "\0" + PASSWORD)));
            client.command("MAIL FROM:<a@example.org>");
            assertEquals("503 5.5.1 AUTH is not permitted during a mail transaction", client.command("AUTH LOGIN"));
            assertEquals("550 5.7.1 Relaying denied", client.command("RCPT TO:<friend@elsewhere.example>"));
        }
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            client.command("HELO client.example");
            assertEquals("503 5.5.1 AUTH not defined for HELO", client.command("AUTH PLAIN " + b64("\0" + USER + "\0" + PASSWORD)));
        }
    }

    @Test
    public void guessingIsSlowedDownPerSessionAndStoppedPerAddress() throws Exception {
        Map<String, Object> guarded = new java.util.HashMap<>(SETTINGS);
        guarded.put("auth.failures.per.ip", 8);
        guarded.put("max.errors", 100);
        int guardedPort = startServer(guarded);
        String guess = "AUTH PLAIN " + b64("\0" + USER + "\0guess");
        try {
            List<Long> millis = new java.util.ArrayList<>();
            try (SmtpClient client = ehlo(guardedPort, GUESSER)) {
                for (int i = 0; i < 5; i++) {
                    long start = System.nanoTime();
                    assertEquals("535 5.7.8 PLAIN authentication failed for " + USER, client.command(guess));
                    millis.add((System.nanoTime() - start) / 1_000_000);
                }
            }
            // 100, 200, 400 ms, then capped at 400 ms
            assertTrue(millis.toString(), millis.get(0) >= 90 && millis.get(1) >= 190 && millis.get(2) >= 390);
            assertTrue(millis.toString(), millis.get(4) >= 390 && millis.get(4) < 2000);
            int refusedAt = 0;
            for (int attempt = 6; attempt <= 40 && refusedAt == 0; attempt++) {
                try (SmtpClient client = ehlo(guardedPort, GUESSER)) {
                    String reply = client.command(guess);
                    if (reply.startsWith("421")) {
                        refusedAt = attempt;
                        assertEquals("421 4.7.0 test.postern Too many failed authentication attempts from your address; try again later", reply);
                        assertTrue(client.closedByServerWithin(2000));
                    } else {
                        assertEquals("535 5.7.8 PLAIN authentication failed for " + USER, reply);
                        if (attempt == 8) {
                            assertTrue("the attempt that used up the budget also ends its session", client.reply().startsWith("421 4.7.0"));
                        }
                    }
                }
            }
            assertEquals("the ninth attempt from the same address is refused before it is checked", 9, refusedAt);
            try (SmtpClient client = ehlo(guardedPort, GUESSER)) {
                assertTrue(client.command("AUTH PLAIN " + b64("\0" + USER + "\0" + PASSWORD)).startsWith("421 4.7.0"));
            }
        } finally {
            // the budget is the server's; a larger one lets the other tests of this class authenticate again
            port = startServer(SETTINGS);
        }
    }

    @Test
    public void anUnknownUserAndAWrongPasswordTakeTheSameTime() throws Exception {
        Map<String, Object> slow = new java.util.HashMap<>(SETTINGS);
        slow.put("auth.failure.delay.ms", 600);
        slow.put("auth.failure.delay.max.ms", 1000);
        int slowPort = startServer(slow);
        hook(HookType.AUTH_PLAIN, 5, ctx -> {
            if (((AuthContext) ctx).user().equals(USER)) {
                try {
                    Thread.sleep(300); // a known user's password hash takes time to check
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return HookResult.deny("no");
        });
        try {
            long unknown = millisToFail(slowPort, "\0nobody@example.org\0guess");
            long wrong = millisToFail(slowPort, "\0" + USER + "\0guess");
            assertTrue(unknown + " ms and " + wrong + " ms", unknown >= 550 && wrong >= 550 && Math.abs(unknown - wrong) < 150);
        } finally {
            port = startServer(SETTINGS);
        }
    }

    private static long millisToFail(int port, String credentials) throws Exception {
        try (SmtpClient client = ehlo(port, GUESSER)) {
            long start = System.nanoTime();
            assertTrue(client.command("AUTH PLAIN " + b64(credentials)).startsWith("535 5.7.8 "));
            return (System.nanoTime() - start) / 1_000_000;
        }
    }

    @Test
    public void pythonSmtplibLogsInWithEachMechanism() throws Exception {
        String script = String.join("\n",
                "import smtplib, sys",
                "for mechanism in ('CRAM-MD5', 'PLAIN', 'LOGIN'):",
                "    with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20) as smtp:",
                "        smtp.ehlo('python.example')",
                "        smtp.user, smtp.password = sys.argv[2], sys.argv[3]",
                "        code, text = smtp.auth(mechanism, getattr(smtp, 'auth_' + mechanism.lower().replace('-', '_')))",
                "        assert code == 235, (mechanism, code, text)",
                "        smtp.sendmail(sys.argv[2], ['someone@elsewhere.example'], 'Subject: hi\\r\\n\\r\\nbody\\r\\n')",
                "print('logged in 3 times')");
        Process python = new ProcessBuilder("python3", "-c", script, Integer.toString(port), USER, PASSWORD)
                .redirectErrorStream(true).start();
        String output = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(output, 0, python.waitFor());
        assertTrue(output, output.contains("logged in 3 times"));
    }

    @Test
    public void withoutAuthPluginsThereIsNoAuth() throws Exception {
        unregisterTestPlugins();
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            assertTrue(!client.command("EHLO client.example").contains("AUTH"));
            assertEquals("500 5.5.1 Unrecognized command", client.command("AUTH PLAIN " + b64("\0" + USER + "\0" + PASSWORD)));
        }
    }
}
