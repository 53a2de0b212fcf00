package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.postern.mailauth.dkim.KeyRecord;
import org.postern.smtp.testkit.Dnsmasq;

/**
 * arc through the distribution with {@code seal = all}, as a forwarder runs it: dnsmasq serves the key record of
 * sealer.test (whose key dkimpy seals with) to Postern's resolver; Postern seals as relay.test with a key in the dkim
 * plugin's folder layout, and dkimpy's arc_verify (Debian's python3-dkim) checks what Postern delivered.
 */
public class ArcIT {
    private static final String MESSAGE = "From: Joe <joe@example.org>\r\nTo: b@localhost\r\nSubject: %s\r\n"
            + "Date: Thu, 03 Dec 2026 12:00:00 +0000\r\nMessage-ID: <%s@example.org>\r\n\r\nHi.\r\n\r\nWe lost the game.\r\n";

    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Path work;
    private static Dnsmasq dns;
    private static ServerProcess postern;

    @BeforeClass
    public static void startDnsAndServer() throws Exception {
        work = Files.createTempDirectory("arc-it");
        KeyPair sealer = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        KeyPair relay = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        Files.writeString(work.resolve("sealer.pem"), Dkimpy.pem(sealer.getPrivate().getEncoded()));
        Path keys = Files.createDirectories(work.resolve("dkim/relay.test"));
        Files.writeString(keys.resolve("private"), Dkimpy.pem(relay.getPrivate().getEncoded()));
        Files.writeString(keys.resolve("selector"), "arc2026\n");
        Files.writeString(work.resolve("keys.txt"), "arc._domainkey.sealer.test " + KeyRecord.publish(sealer.getPublic()) + "\n"
                + "arc2026._domainkey.relay.test " + KeyRecord.publish(relay.getPublic()) + "\n");
        dns = Dnsmasq.start("--local=/test/", Dkimpy.txtRecord("arc._domainkey.sealer.test", KeyRecord.publish(sealer.getPublic())));
        postern = SERVERS.add(ServerProcess.posternWithPlugins("arc", Map.of(
                ServerProcess.SERVER_CFG, "me = mx.relay.test",
                "org.postern.dns.cfg", "nameservers = " + dns.address() + "\ntimeout.ms = 2000\nhosts.file = false",
                "org.postern.smtp.plugin.arc.cfg", "seal = all\nseal_domain = relay.test\nkey_folder = " + work.resolve("dkim")),
                List.of("mail-auth", "plugin-arc"))).awaitPlugin("arc");
    }

    @AfterClass
    public static void stopDns() throws InterruptedException {
        if (dns != null) {
            dns.close();
        }
    }

    /** The message with an ARC set i=1 by dkimpy, as sealer.test, over its own Authentication-Results. */
    private static String sealedByDkimpy(String subject) throws Exception {
        String message = "Authentication-Results: sealer.test; spf=pass smtp.mailfrom=example.org\r\n" + MESSAGE.formatted(subject, subject);
        return Dkimpy.run(message, "arc-seal", "arc", "sealer.test", work.resolve("sealer.pem").toString(), "sealer.test");
    }

    private static String unfolded(String message) {
        return message.replace("\r\n", "\n").replaceAll("\n[ \t]+", " ");
    }

    @Test
    public void aChainSealedByDkimpyPassesAndPosternsNewSetVerifiesWithDkimpy() throws Exception {
        assertTrue(ClientScript.replyToMessage(postern.port, sealedByDkimpy("passing")).startsWith("250 "));
        String delivered = postern.deliveredWithSubject("data/maildir", "passing");
        String header = unfolded(delivered);
        assertTrue(header, header.contains("Authentication-Results: mx.relay.test; auth=none; arc=pass (i=1)\n"));
        assertTrue(header, header.contains("ARC-Seal: i=2; a=rsa-sha256; t="));
        assertTrue(header, header.contains("cv=pass; d=relay.test; s=arc2026;"));
        assertTrue(header, header.contains("ARC-Authentication-Results: i=2; mx.relay.test; auth=none; arc=pass (i=1)\n"));
        assertEquals("pass success\nvalid seals: 2 1\n", Dkimpy.run(delivered, "arc-verify", work.resolve("keys.txt").toString()));
    }

    @Test
    public void aTamperedChainFailsAndIsSealedWithCvFail() throws Exception {
        String tampered = sealedByDkimpy("tampered").replace("We lost", "We won");
        assertTrue(ClientScript.replyToMessage(postern.port, tampered).startsWith("250 "));
        String header = unfolded(postern.deliveredWithSubject("data/maildir", "tampered"));
        assertTrue(header, header.contains("arc=fail (i=1 ARC-Message-Signature i=1: fail, body has been altered)\n"));
        assertTrue(header, header.contains("cv=fail; d=relay.test;"));
        // dkimpy ends the chain at a cv=fail seal; it hashes every set below one, so it validates no cv=fail seal
        // sealed as RFC 8617 5.1.2 says (over its own set only), its own neither: only dkimpy's i=1 seal is valid
        String verdict = Dkimpy.run(postern.deliveredWithSubject("data/maildir", "tampered"), "arc-verify", work.resolve("keys.txt").toString());
        assertEquals("terminated ARC-Seal[2] reported failure, the chain is terminated\nvalid seals: 1\n", verdict);
    }

    @Test
    public void aMessageWithoutChainIsNoneAndGetsItsFirstSet() throws Exception {
        assertTrue(ClientScript.replyToMessage(postern.port, MESSAGE.formatted("plain", "plain")).startsWith("250 "));
        String delivered = postern.deliveredWithSubject("data/maildir", "plain");
        assertTrue(unfolded(delivered), unfolded(delivered).contains("Authentication-Results: mx.relay.test; auth=none; arc=none\n"));
        assertTrue(unfolded(delivered), unfolded(delivered).contains("cv=none; d=relay.test; s=arc2026;"));
        assertEquals("pass success\nvalid seals: 1\n", Dkimpy.run(delivered, "arc-verify", work.resolve("keys.txt").toString()));
    }
}
