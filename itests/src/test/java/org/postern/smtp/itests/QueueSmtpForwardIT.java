package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;
import static org.postern.smtp.itests.MessageSession.finalReply;
import static org.postern.smtp.itests.MessageSession.message;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * queue/smtp-forward relaying to a real Postfix (Debian's package, an instance of the test's own), side by side with
 * qpsmtpd 0.94's plugin of the same name where qpsmtpd can do the same. Postfix listens on three ports: the relay
 * port (clients on loopback may relay, STARTTLS offered with an openssl-made certificate for localhost, messages up
 * to 200,000 octets, {@code refused@localhost} refused with 550 and {@code deferred@localhost} with 450, XCLIENT
 * allowed), a submission port (TLS required, AUTH required, checked by a Dovecot auth service), and a port without
 * TLS. Whatever Postfix accepts lands in one Maildir.
 */
public class QueueSmtpForwardIT {
    private static final String FORWARD_CFG = "org.postern.smtp.plugin.queue.smtp_forward.cfg";
    private static final List<String> BUNDLES = List.of("smtp-client", "plugin-queue-smtp-forward");
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Dovecot dovecot;
    private static ThrowawayPostfix postfix;
    private static Path certificate;
    private static int submissionPort;
    private static int clearPort;
    private static ServerProcess postern;
    private static ServerProcess qpsmtpd;

    @BeforeClass
    public static void startServers() throws Exception {
        assumeTrue("Dovecot runs as root", Dovecot.available());
        dovecot = Dovecot.start(List.of("relay@example.org"));
        Path keys = Files.createTempDirectory("smarthost-tls");
        keys.toFile().setExecutable(true, false);
        certificate = keys.resolve("cert.pem");
        DistributionIT.run(0, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", keys.resolve("key.pem").toString(), "-out", certificate.toString());
        submissionPort = ServerProcess.freePort();
        clearPort = ServerProcess.freePort();
        postfix = ThrowawayPostfix.start(Map.ofEntries(
                Map.entry("myhostname", "smarthost.test"),
                Map.entry("message_size_limit", "200000"),
                Map.entry("smtpd_tls_cert_file", certificate.toString()),
                Map.entry("smtpd_tls_key_file", keys.resolve("key.pem").toString()),
                Map.entry("smtpd_tls_security_level", "may"),
                Map.entry("smtpd_sasl_type", "dovecot"),
                Map.entry("smtpd_sasl_path", "inet:127.0.0.1:" + dovecot.authPort),
                Map.entry("smtpd_tls_auth_only", "yes"),
                Map.entry("smtpd_authorized_xclient_hosts", "127.0.0.0/8"),
                Map.entry("smtpd_recipient_restrictions", "check_recipient_access inline:{"
                        + " { refused@localhost = 550 5.1.1 refused@localhost: no such user },"
                        + " { deferred@localhost = 450 4.2.0 deferred@localhost: try again later } },"
                        + " permit_mynetworks, permit_sasl_authenticated, reject")),
                "127.0.0.1:" + submissionPort + " inet n - n - - smtpd\n"
                        + "  -o mynetworks=192.0.2.0/24\n  -o smtpd_tls_security_level=encrypt\n  -o smtpd_sasl_auth_enable=yes\n"
                        + "127.0.0.1:" + clearPort + " inet n - n - - smtpd\n  -o smtpd_tls_security_level=none\n");
        int relayPort = postfix.smtpPort;
        for (int port : new int[] {relayPort, submissionPort, clearPort}) {
            awaitGreeting(port);
        }
        postern = SERVERS.add(posternForwarding("relay", "smtp.server = 127.0.0.1\nsmtp.port = " + relayPort));
        // qpsmtpd's plugins file in place of the default one, so that no queue/maildir takes what smtp-forward declines
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"),
                Map.of("plugins", "rcpt_ok\nqueue/smtp-forward 127.0.0.1 " + relayPort + "\n")));
    }

    @AfterClass
    public static void stopPeers() throws Exception {
        if (postfix != null) {
            postfix.close();
        }
        if (dovecot != null) {
            dovecot.close();
        }
    }

    private static void awaitGreeting(int port) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (true) {
            try (SmtpClient client = new SmtpClient(port)) {
                if (client.reply().startsWith("220")) {
                    return;
                }
            } catch (IOException notYet) {
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError("no greeting from Postfix on port " + port + " within 20 s:\n" + postfix.log());
                }
                Thread.sleep(50);
            }
        }
    }

    private static ServerProcess posternForwarding(String name, String cfgLines) throws Exception {
        return ServerProcess.posternWithPlugins("forward-" + name, Map.of(FORWARD_CFG, cfgLines), BUNDLES).awaitPlugin("queue/smtp-forward");
    }

    /** The delivered message with this subject, waited for. */
    private static String deliveredWith(String subject) throws Exception {
        return deliveredWith(subject, 1).get(0);
    }

    /** The delivered copies of the message with this subject (Postfix writes one per recipient), waited for. */
    private static List<String> deliveredWith(String subject, int copies) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (true) {
            List<String> found = new ArrayList<>();
            for (Path file : postfix.delivered()) {
                String text = Files.readString(file);
                if (text.contains("Subject: " + subject)) {
                    found.add(text);
                }
            }
            if (found.size() >= copies) {
                return found;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError(found.size() + " of " + copies + " copies with subject " + subject + " delivered:\n" + postfix.log());
            }
            Thread.sleep(50);
        }
    }

    /**
     * Asserts that nothing with this subject was delivered: sends a marker message straight to Postfix's clear port
     * after it and waits for that one, as Postfix delivers in order of arrival from one queue.
     */
    private static void assertNotDelivered(String subject) throws Exception {
        String marker = "marker-" + UUID.randomUUID();
        assertTrue(finalReply(clearPort, List.of("marker@localhost"), message(marker, "marker\r\n")).startsWith("250 "));
        deliveredWith(marker);
        for (Path file : postfix.delivered()) {
            assertTrue(file + " was delivered", !Files.readString(file).contains("Subject: " + subject));
        }
    }

    @Test
    public void healthShowsTheSmarthostsGreeting() throws Exception {
        String smarthost = "smarthost 127.0.0.1:" + postfix.smtpPort;
        Health.Page page = Health.await(postern, smarthost, answer -> answer.body().contains("Postern peer: " + smarthost));
        assertEquals(page.body(), 1, page.lines("OK Postern peer: " + smarthost + ": " + smarthost + " answered: 220 smarthost.test ESMTP"));
    }

    @Test
    public void relaysToTheSmarthostOverTlsAsQpsmtpdRelaysInClearText() throws Exception {
        for (ServerProcess server : List.of(postern, qpsmtpd)) {
            String subject = "relayed-" + UUID.randomUUID();
            String reply = finalReply(server.port, List.of("one@localhost", "two@localhost"), message(subject, "Hello,\r\n..a dot\r\n"));
            assertTrue(reply, reply.matches("250 (2\\.0\\.0 )?queued as [0-9A-F]+"));
            List<String> copies = deliveredWith(subject, 2);
            assertTrue(copies.toString(), copies.stream().anyMatch(copy -> copy.contains("X-Original-To: one@localhost\n"))
                    && copies.stream().anyMatch(copy -> copy.contains("X-Original-To: two@localhost\n")));
            String delivered = copies.get(0);
            assertTrue(delivered, delivered.contains("\n.a dot\n"));
            // Postfix names the protocol, ESMTPS after STARTTLS (qpsmtpd's Net::SMTP does not use it), and its queue id
            java.util.regex.Matcher received = java.util.regex.Pattern.compile("by smarthost.test \\(Postfix\\) with (ESMTPS?) id (\\w+)")
                    .matcher(delivered);
            assertTrue(delivered, received.find());
            assertEquals(server == postern ? "ESMTPS" : "ESMTP", received.group(1));
            assertTrue(reply, reply.endsWith("queued as " + received.group(2)));
        }
    }

    /**
     * A message to fine@localhost and {@code refused}, whom Postfix refuses at RCPT: Postern's reply, once qpsmtpd's
     * was seen to be 451 (it declines at the first refused RCPT, which its core answers so) and neither relayed it.
     */
    private static String replyWhenPostfixRefuses(String refused) throws Exception {
        String subject = refused + "-" + UUID.randomUUID();
        List<String> recipients = List.of("fine@localhost", refused);
        String ours = finalReply(postern.port, recipients, message(subject, "x\r\n"));
        assertTrue(finalReply(qpsmtpd.port, recipients, message(subject, "x\r\n")).startsWith("451 "));
        assertNotDelivered(subject);
        return ours;
    }

    @Test
    public void aRecipientTheSmarthostRefusesStopsTheWholeMessage() throws Exception {
        String reply = replyWhenPostfixRefuses("refused@localhost");
        assertTrue(reply, reply.startsWith("550 5.1.1 Unable to queue message (<refused@localhost>: 550 5.1.1 <refused@localhost>: Recipient address rejected"));
    }

    @Test
    public void aRecipientTheSmarthostDefersIsATemporaryFailure() throws Exception {
        String reply = replyWhenPostfixRefuses("deferred@localhost");
        assertTrue(reply, reply.startsWith("450 4.2.0 Unable to queue message (<deferred@localhost>: 450 4.2.0"));
    }

    @Test
    public void aMessageOverTheSmarthostsSizeIsRefusedWithoutSendingIt() throws Exception {
        String subject = "large-" + UUID.randomUUID();
        String large = message(subject, ("0123456789".repeat(10) + "\r\n").repeat(2500));
        String ours = finalReply(postern.port, List.of("fine@localhost"), large);
        assertTrue(ours, ours.startsWith("552 5.3.4 Unable to queue message (552 5.3.4 Message size "));
        // qpsmtpd sends it all, Postfix refuses it at the final dot, and qpsmtpd's core answers that with a 451
        assertTrue(finalReply(qpsmtpd.port, List.of("fine@localhost"), large).startsWith("451 "));
        assertNotDelivered(subject);
    }

    /**
     * Four messages through Postern, one after the other, reach Postfix over one connection: the smtpd process that
     * logged the first one's queue id logs the others' before it logs a disconnect.
     */
    @Test
    public void connectionsToTheSmarthostAreReused() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String reply = finalReply(postern.port, List.of("fine@localhost"), message("reuse-" + i, "x\r\n"));
            assertTrue(reply, reply.startsWith("250 2.0.0 queued as "));
            ids.add(reply.substring("250 2.0.0 queued as ".length()));
        }
        List<String> log = postfix.awaitLog(ids.get(3) + ": client=").lines().toList();
        List<Integer> lines = new ArrayList<>();
        for (String id : ids) {
            lines.add(java.util.stream.IntStream.range(0, log.size()).filter(i -> log.get(i).contains(id + ": client=")).findFirst().orElseThrow());
        }
        String smtpd = log.get(lines.get(0)).replaceFirst(".*(smtpd\\[\\d+]).*", "$1");
        for (int i = lines.get(0); i <= lines.get(3); i++) {
            String line = log.get(i);
            assertTrue(line, !line.contains(smtpd + ": disconnect from"));
            assertTrue(line, !lines.contains(i) || line.contains(smtpd + ": "));
        }
    }

    @Test
    public void authAndAVerifiedCertificateAtTheSubmissionPort() throws Exception {
        ServerProcess submission = SERVERS.add(posternForwarding("submission", String.join("\n",
                "smtp.server = localhost", "smtp.port = " + submissionPort, "tls = verify", "tls.ca.file = " + certificate,
                "auth.user = relay@example.org", "auth.password = " + Dovecot.PASSWORD)));
        String subject = "submitted-" + UUID.randomUUID();
        String reply = finalReply(submission.port, List.of("fine@localhost"), message(subject, "x\r\n"));
        assertTrue(reply + "\n" + postfix.log(), reply.startsWith("250 2.0.0 queued as "));
        postfix.awaitLog("sasl_method=PLAIN, sasl_username=relay@example.org");
        deliveredWith(subject);
        submission.close();

        ServerProcess wrongPassword = SERVERS.add(posternForwarding("wrong-password", String.join("\n",
                "smtp.server = localhost", "smtp.port = " + submissionPort, "tls = verify", "tls.ca.file = " + certificate,
                "auth.user = relay@example.org", "auth.password = wrong")));
        String refused = finalReply(wrongPassword.port, List.of("fine@localhost"), message("not-submitted", "x\r\n"));
        assertTrue(refused, refused.startsWith("451 4.7.8 Unable to queue message (535 5.7.8 Error: authentication failed"));
        wrongPassword.close();

        // the JVM's trust store does not know the test certificate: verify fails before any credential is sent
        ServerProcess untrusted = SERVERS.add(posternForwarding("untrusted", String.join("\n",
                "smtp.server = localhost", "smtp.port = " + submissionPort, "tls = verify",
                "auth.user = relay@example.org", "auth.password = " + Dovecot.PASSWORD)));
        String unverified = finalReply(untrusted.port, List.of("fine@localhost"), message("not-verified", "x\r\n"));
        assertTrue(unverified, unverified.startsWith("451 4.7.5 Unable to queue message (451 4.7.5 TLS with localhost:" + submissionPort + " failed"));
        untrusted.close();
    }

    @Test
    public void requiredTlsToASmarthostWithoutItSendsNothing() throws Exception {
        ServerProcess encrypting = SERVERS.add(posternForwarding("encrypt", "smtp.server = 127.0.0.1\nsmtp.port = " + clearPort + "\ntls = encrypt"));
        String reply = finalReply(encrypting.port, List.of("fine@localhost"), message("not-encrypted", "x\r\n"));
        assertEquals("451 4.7.5 Unable to queue message (451 4.7.5 TLS is required, but 127.0.0.1:" + clearPort + " does not offer STARTTLS)", reply);
        encrypting.close();
    }

    @Test
    public void aSmarthostThatIsDownGives451AsInQpsmtpd() throws Exception {
        int down = ServerProcess.freePort();
        ServerProcess ours = SERVERS.add(posternForwarding("down", "smtp.server = 127.0.0.1\nsmtp.port = " + down + "\ntimeout.connect = 5"));
        ServerProcess theirs = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"),
                Map.of("plugins", "rcpt_ok\nqueue/smtp-forward 127.0.0.1 " + down + "\n")));
        String reply = finalReply(ours.port, List.of("fine@localhost"), message("down", "x\r\n"));
        assertTrue(reply, reply.startsWith("451 4.4.1 Unable to queue message (451 4.4.1 Cannot connect to 127.0.0.1:" + down));
        assertTrue(finalReply(theirs.port, List.of("fine@localhost"), message("down", "x\r\n")).startsWith("451 "));
        ours.close();
        theirs.close();
    }

    @Test
    public void xclientHandsTheClientsIdentityToTheSmarthostAsInQpsmtpd() throws Exception {
        int relayPort = postfix.smtpPort;
        ServerProcess ours = SERVERS.add(posternForwarding("xclient", "smtp.server = 127.0.0.1\nsmtp.port = " + relayPort + "\nxclient = true"));
        ServerProcess theirs = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"),
                Map.of("plugins", "rcpt_ok\nqueue/smtp-forward 127.0.0.1 " + relayPort + " xclient\n")));
        for (ServerProcess server : List.of(ours, theirs)) {
            String subject = "xclient-" + UUID.randomUUID();
            String reply = finalReply(server.port, List.of("fine@localhost"), message(subject, "x\r\n"));
            assertTrue(reply, reply.matches("250 (2\\.0\\.0 )?queued as [0-9A-F]+"));
            String delivered = deliveredWith(subject);
            // Postfix's Received line names the HELO and address of the client Postern or qpsmtpd heard, not theirs (and
            // its name where the server had one: "unknown" for Postern's [UNAVAILABLE] without a PTR lookup)
            assertTrue(delivered, delivered.matches("(?s).*Received: from client\\.example \\((unknown|localhost) \\[127\\.0\\.0\\.1]\\).*"));
        }
        ours.close();
        theirs.close();
    }
}
