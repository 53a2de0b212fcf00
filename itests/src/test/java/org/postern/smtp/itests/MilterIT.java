package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * The milter plugin through the distribution against real milters from Debian's packages on loopback: OpenDKIM
 * signing (Mode s) and another OpenDKIM verifying (Mode v) with the same key, over TCP; clamav-milter on a Unix socket
 * in front of a real clamd with its EICAR signature; and a milter that is not there, under both milter_default_action settings. qpsmtpd's
 * milter plugin is not run side by side: it needs Net::Milter, which Debian does not package.
 */
public class MilterIT {
    private static final String CFG = "org.postern.smtp.plugin.milter.cfg";

    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Milters signer;
    private static Milters verifier;
    private static Clamd clamd;
    private static Milters clamavMilter;
    private static ServerProcess signing;
    private static ServerProcess verifying;
    private static ServerProcess scanning;
    private static ServerProcess downTempfail;
    private static ServerProcess downAccept;
    private static int nobodyListens;

    @BeforeClass
    public static void startMiltersAndServers() throws Exception {
        Path keys = Files.createTempDirectory("dkim-keys");
        Milters.generateKey(keys);
        signer = Milters.openDkimSigner(keys);
        verifier = Milters.openDkimVerifier(keys);
        clamd = Clamd.start("10M");
        clamavMilter = Milters.clamavMilter(clamd);
        signing = server("milter-sign", "milter_name = opendkim\nmilter_socket = inet:" + signer.port + "@127.0.0.1");
        // qpsmtpd's option names: the host and the port apart
        verifying = server("milter-verify", "milter_name = opendkim\nmilter_host = 127.0.0.1\nmilter_port = " + verifier.port);
        scanning = server("milter-clamav", "milter_name = clamav-milter\nmilter_socket = unix:" + clamavMilter.socket);
        nobodyListens = ServerProcess.freePort();
        downTempfail = server("milter-down-tempfail", "milter_name = gone\nmilter_port = " + nobodyListens);
        downAccept = server("milter-down-accept", "milter_name = gone\nmilter_port = " + nobodyListens + "\nmilter_default_action = accept");
    }

    private static ServerProcess server(String name, String config) throws Exception {
        return SERVERS.add(ServerProcess.posternWithPlugins(name, Map.of(CFG, config), List.of("plugin-milter"))).awaitPlugin("milter");
    }

    @AfterClass
    public static void stopMilters() throws InterruptedException {
        for (AutoCloseable daemon : new AutoCloseable[] {signer, verifier, clamavMilter, clamd}) {
            if (daemon != null) {
                try {
                    daemon.close();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }
        }
    }

    private static String header(String message) {
        return "\n" + message.substring(0, message.indexOf("\n\n") + 1);
    }

    private static String swaks(int exit, ServerProcess server, String subject, String body) throws Exception {
        return DistributionIT.run(exit, "swaks", "--server", "127.0.0.1:" + server.port, "--from", "a@" + Milters.DOMAIN,
                "--to", "b@localhost", "--header", "Subject: " + subject, "--body", body);
    }

    @Test
    public void openDkimSignsAMessageFromSwaksAndTheSignatureVerifiesWhenTheMessageIsSentOn() throws Exception {
        String output = swaks(0, signing, "sign me", "A message worth signing.");
        assertTrue(output, output.contains("<-  250 "));
        String signed = signing.deliveredWithSubject("data/maildir", "sign me");
        String header = header(signed);
        // inserted at the top of the header as the milter asked (index 0), under the lines the maildir queue adds
        assertTrue(header, header.startsWith("\nReturn-Path: <a@example.org>\nDelivered-To: b@localhost\n"
                + "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=example.org; s=test;\n"));
        assertTrue(signing.log(), signing.log().contains("opendkim milter inserted header DKIM-Signature at 0"));

        // the delivered message, sent on to a server whose milter is OpenDKIM verifying with the same key
        String onward = signed.replace("\n", "\r\n");
        assertTrue(ClientScript.replyToMessage(verifying.port, onward).startsWith("250 "));
        assertTrue(verifying.deliveredWithSubject("data/maildir", "sign me"), header(verifying.deliveredWithSubject("data/maildir", "sign me"))
                .contains("\nAuthentication-Results: verifier.test;\n\tdkim=pass (2048-bit key) header.d=example.org"));

        // and a body changed on the way fails
        String tampered = onward.replace("Subject: sign me", "Subject: sign me, tampered").replace("A message worth signing.", "A forged one.");
        assertTrue(ClientScript.replyToMessage(verifying.port, tampered).startsWith("250 "));
        String verdict = header(verifying.deliveredWithSubject("data/maildir", "sign me, tampered"));
        assertTrue(verdict, verdict.contains("\nAuthentication-Results: verifier.test;\n\tdkim=fail"));
    }

    @Test
    public void clamavMilterRefusesEicarWithItsReplyAndMarksACleanMessage() throws Exception {
        String output = swaks(26, scanning, "eicar", Clamd.EICAR);
        String reply = Milters.REJECT_MESSAGE.replace("%v", Clamd.SIGNATURE);
        assertTrue(output, output.contains("<** 550 5.7.1 " + reply + "\n"));
        assertTrue(scanning.log(), scanning.log().contains("clamav-milter milter replied at end of DATA: 550 5.7.1 " + reply));
        // 3 MB with EICAR on the last line: found only if the whole body reached clamav-milter, in 64 KiB chunks
        String large = "From: a@example.org\r\nSubject: large\r\n\r\n"
                + "All work and no play makes Jack a dull boy.\r\n".repeat(70_000) + Clamd.EICAR + "\r\n";
        assertEquals("550 " + reply, ClientScript.comparable(ClientScript.replyToMessage(scanning.port, large)));

        assertTrue(swaks(0, scanning, "clean", "Nothing to see here.").contains("<-  250 "));
        String header = header(scanning.deliveredWithSubject("data/maildir", "clean"));
        assertTrue(header, header.matches("(?s).*\nX-Virus-Scanned: clamav-milter \\d+\\.\\d+\\.\\d+ at \\S+\nX-Virus-Status: Clean\n"));
    }

    @Test
    public void aMilterThatIsDownDefersMailOrIsPassedByMilterDefaultAction() throws Exception {
        List<String> deferred = ClientScript.replies(downTempfail, List.of("HELO client.example", "MAIL FROM:<a@example.org>", "QUIT"));
        assertEquals("451 Service temporarily unavailable, please try again later", deferred.get(1));
        assertTrue(downTempfail.log(), downTempfail.log().contains("gone milter at 127.0.0.1:" + nobodyListens + " failed at MAIL FROM: "));

        assertTrue(swaks(0, downAccept, "passed", "The milter is away.").contains("<-  250 "));
        downAccept.deliveredWithSubject("data/maildir", "passed");
        assertTrue(downAccept.log(), downAccept.log().contains("; accepted without it"));
    }

    @Test
    public void healthShowsWhetherTheMilterNegotiates() throws Exception {
        String peer = "milter opendkim 127.0.0.1:" + signer.port;
        Health.Page page = Health.await(signing, peer, answer -> answer.body().contains("Postern peer: " + peer));
        assertEquals(page.body(), 1, page.lines("OK Postern peer: " + peer + ": " + peer + " answered: milter protocol 6"));
    }
}
