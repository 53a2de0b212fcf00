package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLSocket;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * TLS as administrators set it up, through the distribution and real clients: certificates made by openssl as PEM
 * files, chosen by SNI ({@code openssl s_client -servername}); an MX listener, a submission listener (STARTTLS,
 * AUTH required) and an implicit-TLS one (RFC 8314), with auth_flat_file running on the submission listeners
 * only; swaks ({@code --tls}, {@code --tlsc}, {@code --auth}) and Python's smtplib; the certificate renewed on
 * disk while clients keep handshaking; and clients that never finish a handshake.
 */
public class TlsIT {
    private static final String PASSWORDS = "user@example.org:secret\n";
    private static Path certificates;
    private static ServerProcess postern;
    private static int submission;
    private static int submissions;

    @BeforeClass
    public static void start() throws Exception {
        certificates = Files.createTempDirectory("postern-certificates");
        certificate("mx", "mx.example.org", "RSA");
        certificate("net", "mail.example.net", "EC");
        Path passwords = certificates.resolve("passwords");
        Files.writeString(passwords, PASSWORDS);
        submission = ServerProcess.freePort();
        submissions = ServerProcess.freePort();
        postern = ServerProcess.posternWithPlugins("tls", Map.of(
                ServerProcess.SERVER_CFG, String.join("\n",
                        "listen = mx=127.0.0.1:" + ServerProcess.PORT + ", submission=127.0.0.1:" + submission
                                + ", submissions=127.0.0.1:" + submissions,
                        "listener.submission.auth.required = true",
                        "listener.submissions.auth.required = true",
                        "listener.submissions.tls.implicit = true",
                        "tls.cert = " + certificates.resolve("mx.crt"),
                        "tls.key = " + certificates.resolve("mx.key"),
                        "tls.cert.net = " + certificates.resolve("net.crt"),
                        "tls.key.net = " + certificates.resolve("net.key"),
                        "tls.reload.interval = 1",
                        "tls.handshake.timeout = 2",
                        "auth.failure.delay.ms = 0"),
                "org.postern.smtp.plugin.auth_flat_file.cfg", "file = " + passwords + "\npostern.listeners = submission, submissions"),
                List.of("plugin-auth-flat-file")).awaitPlugin("auth_flat_file");
    }

    @AfterClass
    public static void stop() throws Exception {
        postern.close();
    }

    /** A key and a self-signed certificate for {@code name} (and *.its-domain), as {@code file}.key and .crt. */
    private static void certificate(String file, String name, String algorithm) throws Exception {
        String domain = name.substring(name.indexOf('.') + 1);
        DistributionIT.run(0, "openssl", "req", "-x509", "-newkey", algorithm.equals("EC") ? "ec" : "rsa:2048",
                "-pkeyopt", algorithm.equals("EC") ? "ec_paramgen_curve:P-256" : "rsa_keygen_pubexp:65537", "-nodes",
                "-keyout", certificates.resolve(file + ".key").toString(), "-out", certificates.resolve(file + ".crt").toString(),
                "-days", "30", "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name + ",DNS:*." + domain);
    }

    /** The subject of the certificate openssl s_client gets after STARTTLS, asking for {@code serverName} (or none). */
    private static String certificateSubject(int port, String serverName) throws Exception {
        String client = "openssl s_client -connect 127.0.0.1:" + port + " -starttls smtp "
                + (serverName == null ? "-noservername" : "-servername " + serverName) + " </dev/null 2>/dev/null";
        return DistributionIT.run(0, "bash", "-c", client + " | openssl x509 -noout -subject").trim();
    }

    @Test
    public void opensslGetsTheCertificateOfTheNameItAsksFor() throws Exception {
        // the renewal test may have run first: it adds O = renewed to mx.example.org's subject
        assertTrue(certificateSubject(postern.port, "mx.example.org").startsWith("subject=CN = mx.example.org"));
        assertEquals("subject=CN = mail.example.net", certificateSubject(postern.port, "mail.example.net"));
        assertEquals("subject=CN = mail.example.net", certificateSubject(postern.port, "smtp.example.net"));
        assertTrue(certificateSubject(submission, "unknown.example.com").startsWith("subject=CN = mx.example.org"));
        assertTrue(certificateSubject(submission, null).startsWith("subject=CN = mx.example.org"));
    }

    @Test
    public void swaksDeliversOverStartTlsOnTheMxListenerWithoutAuth() throws Exception {
        String output = DistributionIT.run(0, "swaks", "--server", "127.0.0.1:" + postern.port, "--tls",
                "--from", "a@example.org", "--to", "postmaster@localhost");
        assertTrue(output, output.contains("<~  250 2.0.0 Queued"));
        assertFalse("AUTH is offered on the submission listeners only:\n" + output, output.contains("AUTH"));
    }

    @Test
    public void theSubmissionListenerRefusesMailBeforeAuthAndTakesItAfter() throws Exception {
        String refused = DistributionIT.run(23, "swaks", "--server", "127.0.0.1:" + submission, "--tls",
                "--from", "user@example.org", "--to", "someone@elsewhere.example");
        assertTrue(refused, refused.contains("<~* 530 5.7.0 Authentication required"));
        assertTrue(refused, refused.contains("<~  250 AUTH PLAIN LOGIN CRAM-MD5"));
        String sent = DistributionIT.run(0, "swaks", "--server", "127.0.0.1:" + submission, "--tls", "--auth", "PLAIN",
                "--auth-user", "user@example.org", "--auth-password", "secret",
                "--from", "user@example.org", "--to", "someone@elsewhere.example");
        assertTrue(sent, sent.contains("<~  235 2.7.0") && sent.contains("<~  250 2.0.0 Queued"));
    }

    @Test
    public void swaksSpeaksTlsFromTheFirstByteOnTheImplicitTlsListener() throws Exception {
        String sent = DistributionIT.run(0, "swaks", "--server", "127.0.0.1:" + submissions, "--tlsc", "--auth", "LOGIN",
                "--auth-user", "user@example.org", "--auth-password", "secret",
                "--from", "user@example.org", "--to", "someone@elsewhere.example");
        assertTrue(sent, sent.contains("<~  220 ") && sent.contains("<~  235 2.7.0") && sent.contains("<~  250 2.0.0 Queued"));
        assertFalse("no STARTTLS inside TLS:\n" + sent, sent.contains("STARTTLS"));
    }

    @Test
    public void pythonSmtplibSendsOverSmtpsAndIsRefusedWithoutLogin() throws Exception {
        String script = String.join("\n",
                "import smtplib, ssl, sys",
                "port = int(sys.argv[1])",
                "context = ssl._create_unverified_context()",
                "with smtplib.SMTP_SSL('127.0.0.1', port, context=context, timeout=20) as smtp:",
                "    try:",
                "        smtp.sendmail('user@example.org', ['x@elsewhere.example'], 'Subject: no\\r\\n\\r\\nno\\r\\n')",
                "    except smtplib.SMTPSenderRefused as e:",
                "        print('refused', e.smtp_code, e.smtp_error.decode())",
                "with smtplib.SMTP_SSL('127.0.0.1', port, context=context, timeout=20) as smtp:",
                "    smtp.login('user@example.org', 'secret')",
                "    print('sent', smtp.sendmail('user@example.org', ['x@elsewhere.example'], 'Subject: yes\\r\\n\\r\\nyes\\r\\n'))",
                "    print('version', smtp.sock.version())");
        String output = DistributionIT.run(0, "python3", "-c", script, Integer.toString(submissions));
        assertTrue(output, output.contains("refused 530 5.7.0 Authentication required"));
        assertTrue(output, output.contains("sent {}"));
        assertTrue(output, output.contains("version TLSv1.3"));
    }

    @Test
    public void aClientThatSpeaksPlainTextOrNothingToTheImplicitTlsListenerIsClosedWithoutAGreeting() throws Exception {
        try (Socket plain = new Socket("127.0.0.1", submissions); Socket silent = new Socket("127.0.0.1", submissions)) {
            plain.setSoTimeout(10_000);
            silent.setSoTimeout(10_000);
            plain.getOutputStream().write("EHLO plain.example\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] answer = plain.getInputStream().readAllBytes();
            assertFalse(new String(answer, StandardCharsets.ISO_8859_1), new String(answer, StandardCharsets.ISO_8859_1).contains("220"));
            long start = System.nanoTime();
            assertEquals(-1, silent.getInputStream().read());
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue("closed after tls.handshake.timeout (2 s), not " + waited + " ms", waited >= 1500 && waited < 8000);
        }
        try (SmtpClient smtp = new SmtpClient(postern.port)) {
            assertTrue(smtp.reply().startsWith("220"));
        }
    }

    /**
     * Eight clients send a message each over STARTTLS, over and over, while the certificate files are replaced, as
     * a renewal does: every message gets its 250, and the handshakes after the swap present the new certificate.
     */
    @Test
    public void aRenewedCertificateIsUsedForNewHandshakesWhileClientsKeepSending() throws Exception {
        Path renewal = Files.createTempDirectory("postern-renewal");
        DistributionIT.run(0, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", renewal.resolve("mx.key").toString(),
                "-out", renewal.resolve("mx.crt").toString(), "-days", "90", "-subj", "/CN=mx.example.org/O=renewed",
                "-addext", "subjectAltName=DNS:mx.example.org");
        AtomicBoolean running = new AtomicBoolean(true);
        List<String> subjects = Collections.synchronizedList(new ArrayList<>());
        ExecutorService clients = Executors.newFixedThreadPool(8);
        List<Future<Integer>> sent = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            sent.add(clients.submit(() -> {
                int messages = 0;
                while (running.get()) {
                    subjects.add(sendOverStartTls(postern.port));
                    messages++;
                }
                return messages;
            }));
        }
        Thread.sleep(1500);
        // key first, then certificate, each replaced whole, as certbot re-points its symbolic links
        Files.move(renewal.resolve("mx.key"), certificates.resolve("mx.key"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.move(renewal.resolve("mx.crt"), certificates.resolve("mx.crt"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        long swapped = subjects.size();
        Thread.sleep(4000);
        running.set(false);
        int total = 0;
        for (Future<Integer> client : sent) {
            total += client.get(60, TimeUnit.SECONDS);
        }
        clients.shutdown();
        List<String> seen = List.copyOf(subjects);
        assertEquals(total, seen.size());
        assertTrue("sessions before the swap saw the old certificate", seen.subList(0, (int) swapped).stream().anyMatch(s -> !s.contains("renewed")));
        assertTrue("the last sessions see the renewed certificate: " + seen.subList(seen.size() - 8, seen.size()),
                seen.subList(seen.size() - 8, seen.size()).stream().allMatch(s -> s.contains("O=renewed")));
        assertTrue(postern.log(), postern.log().contains("TLS certificates reloaded"));
        System.out.printf("TlsIT: %d messages over STARTTLS by 8 clients across the certificate renewal%n", total);
    }

    /** One message over STARTTLS with SNI mx.example.org; returns the subject of the certificate the server showed. */
    private static String sendOverStartTls(int port) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(20_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = socket.getOutputStream();
            expect(in, "220");
            command(out, "EHLO client.example");
            expect(in, "250");
            command(out, "STARTTLS");
            expect(in, "220");
            SSLSocket tls = (SSLSocket) TrustingEveryone.context().getSocketFactory().createSocket(socket, "127.0.0.1", port, true);
            SSLParameters parameters = tls.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName("mx.example.org")));
            tls.setSSLParameters(parameters);
            tls.startHandshake();
            String subject = ((X509Certificate) tls.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
            BufferedReader secureIn = new BufferedReader(new InputStreamReader(tls.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream secureOut = tls.getOutputStream();
            command(secureOut, "EHLO client.example");
            expect(secureIn, "250");
            command(secureOut, "MAIL FROM:<a@example.org>");
            expect(secureIn, "250");
            command(secureOut, "RCPT TO:<postmaster@localhost>");
            expect(secureIn, "250");
            command(secureOut, "DATA");
            expect(secureIn, "354");
            command(secureOut, "Subject: renewal\r\n\r\nbody\r\n.");
            expect(secureIn, "250");
            command(secureOut, "QUIT");
            expect(secureIn, "221");
            return subject;
        }
    }

    private static void command(OutputStream out, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** Reads one reply (all its lines) and checks its code. */
    private static void expect(BufferedReader in, String code) throws IOException {
        String line;
        do {
            line = in.readLine();
            if (line == null || !line.startsWith(code)) {
                throw new AssertionError("expected " + code + ", got " + line);
            }
        } while (line.charAt(3) == '-');
    }
}
