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
    private static int port;
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
            port = startServer(Map.of());
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
        SmtpClient client = new SmtpClient(port);
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
                return received.contains(" with ESMTPA id ") ? HookResult.declined() : HookResult.deny("Received: " + received);
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
            assertEquals("535 5.7.8 PLAIN authentication failed for " + USER + " - wrong password",
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
            assertTrue(client.command("RCPT TO:<friend@elsewhere.example>").startsWith("450"));
        }
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            client.command("HELO client.example");
            assertEquals("503 5.5.1 AUTH not defined for HELO", client.command("AUTH PLAIN " + b64("\0" + USER + "\0" + PASSWORD)));
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
