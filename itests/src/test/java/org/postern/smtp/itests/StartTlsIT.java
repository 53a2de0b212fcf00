package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSocket;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;

/** STARTTLS (RFC 3207) with a self-signed certificate: Python's smtplib, and the command-injection guard. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class StartTlsIT extends PosternTestSupport {
    private static int port;
    private static Map<String, Object> tlsSettings;

    @Before
    public void start() throws Exception {
        if (port == 0) {
            Path keystore = Files.createTempDirectory("postern-tls").resolve("server.p12");
            Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                    "-genkeypair", "-alias", "postern", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                    "-dname", "CN=test.postern", "-storetype", "PKCS12", "-keystore", keystore.toString(),
                    "-storepass", "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
            String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(output, 0, keytool.waitFor());
            tlsSettings = Map.of("tls.keystore", keystore.toString(), "tls.keystore.password", "changeit");
            port = startServer(tlsSettings);
        }
        hook(HookType.RCPT, 10, ctx -> HookResult.ok());
        hook(HookType.QUEUE, 10, ctx -> HookResult.ok());
    }

    @Test
    public void pythonSmtplibUpgradesAndTheReceivedHeaderSaysSo() throws Exception {
        AtomicReference<String> received = new AtomicReference<>();
        hook(HookType.DATA_POST, 10, ctx -> {
            received.set(ctx.transaction().header().orElseThrow().get("Received").get(0));
            return HookResult.declined();
        });
        String script = String.join("\n",
                "import smtplib, ssl, sys",
                "with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20) as smtp:",
                "    smtp.ehlo('python.example')",
                "    assert smtp.has_extn('starttls')",
                "    code, text = smtp.starttls(context=ssl._create_unverified_context())",
                "    assert code == 220, (code, text)",
                "    smtp.ehlo('python.example')",
                "    assert not smtp.has_extn('starttls')",
                "    smtp.sendmail('a@example.org', ['b@example.org'], 'Subject: encrypted\\r\\n\\r\\nbody\\r\\n')",
                "    print('cipher', smtp.sock.cipher()[0])");
        String output = python(script, port);
        assertTrue(output, output.startsWith("cipher "));
        assertTrue(received.get(), received.get().matches("(?s)from .* with \\(TLSv1\\.[23]:\\S+ encrypted\\) ESMTPS id .*"));
    }

    /** Python's smtplib: AUTH before STARTTLS, then STARTTLS and AUTH; prints what it saw. */
    private static final String AUTH_SCRIPT = String.join("\n",
            "import smtplib, ssl, sys, base64",
            "with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20) as smtp:",
            "    smtp.ehlo('python.example')",
            "    print('plain offers auth:', smtp.has_extn('auth'))",
            "    code, text = smtp.docmd('AUTH', 'PLAIN ' + base64.b64encode(b'\\0alice\\0secret').decode())",
            "    print('plain auth:', code, text.decode())",
            "    smtp.starttls(context=ssl._create_unverified_context())",
            "    smtp.ehlo('python.example')",
            "    print('tls offers auth:', smtp.has_extn('auth'))",
            "    try:",
            "        code, text = smtp.login('alice', 'secret')",
            "        print('tls auth:', code)",
            "    except smtplib.SMTPException as e:",
            "        print('tls auth refused:', e)");

    private String runAuthScript() throws Exception {
        return runAuthScript(port);
    }

    private String runAuthScript(int port) throws Exception {
        hook(HookType.AUTH, 10, ctx -> ((org.postern.smtp.api.AuthContext) ctx).clearPassword().orElse("").equals("secret")
                ? HookResult.ok() : HookResult.deny());
        return python(AUTH_SCRIPT, port);
    }

    /** Runs a Python script with the port as its argument; returns what it printed, requiring a clean exit. */
    private static String python(String script, int port) throws Exception {
        Process python = new ProcessBuilder("python3", "-c", script, Integer.toString(port)).redirectErrorStream(true).start();
        String output = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(output, 0, python.waitFor());
        return output;
    }

    @Test
    public void authIsOfferedAndAcceptedOnlyAfterStartTls() throws Exception {
        assertEquals("plain offers auth: False\nplain auth: 530 5.7.0 Must issue a STARTTLS command first\n"
                + "tls offers auth: True\ntls auth: 235\n", runAuthScript());
    }

    @Test
    public void tlsBeforeAuthCanBeSetPerListener() throws Exception {
        int submission = freePort();
        java.util.Hashtable<String, Object> settings = new java.util.Hashtable<>(tlsSettings);
        settings.put("me", "test.postern");
        settings.put("listen", new String[] {"mx=127.0.0.1:" + port, "submission=127.0.0.1:" + submission});
        settings.put("listener.mx.tls.before.auth", "false");
        configAdmin.getConfiguration("org.postern.smtp.server", "?").update(settings);
        awaitListening(submission);
        try {
            assertEquals("on the listener that keeps the server's default",
                    "plain offers auth: False\nplain auth: 530 5.7.0 Must issue a STARTTLS command first\n"
                    + "tls offers auth: True\ntls auth: 235\n", runAuthScript(submission));
            unregisterTestPlugins();
            String mx = runAuthScript(port);
            assertTrue(mx, mx.startsWith("plain offers auth: True\nplain auth: 235 2.7.0 PLAIN authentication successful for alice"));
        } finally {
            port = startServer(tlsSettings);
        }
    }

    @Test
    public void whatWasLearntFromTheClientBeforeStartTlsIsForgottenWhatTheConnectionToldIsNot() throws Exception {
        org.postern.smtp.api.NoteKey<String> learnt = org.postern.smtp.api.NoteKey.of("test.learnt", String.class);
        List<String> seenAtEhlo = new java.util.concurrent.CopyOnWriteArrayList<>();
        hook(HookType.CONNECT, 10, ctx -> {
            // as the relay plugin marks a client by its address
            ctx.session().notes().put(org.postern.smtp.api.SharedNotes.RELAY_CLIENT, true);
            return HookResult.declined();
        });
        hook(HookType.EHLO, 10, ctx -> {
            seenAtEhlo.add(ctx.session().notes().get(learnt).orElse("nothing") + (ctx.session().tls() ? " (tls)" : "")
                    + " relay " + ctx.session().notes().get(org.postern.smtp.api.SharedNotes.RELAY_CLIENT).orElse(false));
            ctx.session().notes().put(learnt, "said EHLO");
            return HookResult.declined();
        });
        String script = String.join("\n",
                "import smtplib, ssl, sys",
                "with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20) as smtp:",
                "    smtp.ehlo('python.example')",
                "    smtp.starttls(context=ssl._create_unverified_context())",
                "    smtp.ehlo('python.example')");
        python(script, port);
        assertEquals("RFC 3207 4.2: what the client said is forgotten, its address still counts",
                List.of("nothing relay true", "nothing (tls) relay true"), seenAtEhlo);
    }

    @Test
    public void tlsBeforeAuthCanBeTurnedOff() throws Exception {
        Map<String, Object> settings = new java.util.HashMap<>(tlsSettings);
        settings.put("tls.before.auth", false);
        port = startServer(settings);
        try {
            String output = runAuthScript();
            assertTrue(output, output.startsWith("plain offers auth: True\nplain auth: 235 2.7.0 PLAIN authentication successful for alice"));
        } finally {
            port = startServer(tlsSettings);
        }
    }

    @Test
    public void commandsPipelinedAfterStartTlsInTheClearAreNeverExecuted() throws Exception {
        try (Socket plain = new Socket("127.0.0.1", port)) {
            plain.setSoTimeout(5000);
            BufferedReader in = new BufferedReader(new InputStreamReader(plain.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = plain.getOutputStream();
            assertTrue(in.readLine().startsWith("220"));
            out.write("EHLO client.example\r\n".getBytes(StandardCharsets.US_ASCII));
            String line;
            while ((line = in.readLine()).startsWith("250-")) {
                // capabilities
            }
            assertEquals("250 STARTTLS", line);
            // An attacker in the middle appends a command to the client's STARTTLS (CVE-2011-0411 style).
            out.write("STARTTLS\r\nMAIL FROM:<injected@evil.example>\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("220 2.0.0 Ready to start TLS", in.readLine());

            try (SSLSocket tls = (SSLSocket) TrustingEveryone.context().getSocketFactory().createSocket(plain, "127.0.0.1", port, true)) {
                tls.setSoTimeout(1000);
                tls.startHandshake();
                BufferedReader secureIn = new BufferedReader(new InputStreamReader(tls.getInputStream(), StandardCharsets.US_ASCII));
                OutputStream secureOut = tls.getOutputStream();
                try {
                    String unexpected = secureIn.readLine();
                    throw new AssertionError("the injected command was answered: " + unexpected);
                } catch (SocketTimeoutException expected) {
                    // nothing was executed
                }
                tls.setSoTimeout(5000);
                secureOut.write("MAIL FROM:<a@example.org>\r\n".getBytes(StandardCharsets.US_ASCII));
                assertEquals("503 5.5.1 please say hello first ...", secureIn.readLine());
                secureOut.write("EHLO client.example\r\n".getBytes(StandardCharsets.US_ASCII));
                while ((line = secureIn.readLine()).startsWith("250-")) {
                    assertTrue(!line.contains("STARTTLS"));
                }
                secureOut.write("STARTTLS\r\n".getBytes(StandardCharsets.US_ASCII));
                assertEquals("503 5.5.1 TLS already active", secureIn.readLine());
            }
        }
    }
}
