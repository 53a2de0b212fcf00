package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.postern.mailauth.dkim.KeyRecord;
import org.postern.smtp.testkit.Dnsmasq;

/**
 * dkim through the distribution, with dnsmasq serving the key records of signed.test (RSA and Ed25519) to Postern's
 * resolver and to qpsmtpd 0.94's dkim plugin (Mail::DKIM over Net::DNS, pointed at dnsmasq by a test plugin loaded
 * before it). Incoming messages are signed by OpenDKIM 2.11 ({@code opendkim -t}) and dkimpy; an authenticated
 * client's (swaks --auth) message is signed by Postern with auth.test's keys and checked by dkimpy and OpenDKIM
 * ({@code opendkim -t}, opendkim-testmsg), whose opendkim-testkey also checks the keys against the zone. Postern
 * runs dmarc after dkim, with p=reject published for signed.test and bank.test: DKIM is the only aligned identity.
 */
public class DkimIT {
    private static final String MESSAGE = "From: Joe <joe@signed.test>\r\nTo: b@localhost\r\nSubject: %s\r\n"
            + "Date: Thu, 03 Dec 2026 12:00:00 +0000\r\nMessage-ID: <%s@signed.test>\r\n\r\nHi.\r\n\r\nWe lost the game.\r\n";

    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Path work;
    private static Dnsmasq dns;
    private static ServerProcess postern;
    private static ServerProcess qpsmtpd;
    /** auth.test's key records, as dnsmasq options. */
    private static List<String> authKeyRecords;

    @BeforeClass
    public static void startDnsAndServers() throws Exception {
        work = Files.createTempDirectory("dkim-it");
        KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        KeyPair ed25519 = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Files.writeString(work.resolve("rsa.pem"), Dkimpy.pem(rsa.getPrivate().getEncoded()));
        byte[] pkcs8 = ed25519.getPrivate().getEncoded();
        Files.writeString(work.resolve("ed.seed"), Base64.getEncoder().encodeToString(Arrays.copyOfRange(pkcs8, pkcs8.length - 32, pkcs8.length)));
        KeyPair authRsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        KeyPair authEd25519 = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path keys = Files.createDirectories(work.resolve("dkim/auth.test"));
        Files.writeString(keys.resolve("private"), Dkimpy.pem(authRsa.getPrivate().getEncoded()));
        Files.writeString(keys.resolve("selector"), "may2013\n");
        Files.writeString(keys.resolve("ed25519.private"), Dkimpy.pem(authEd25519.getPrivate().getEncoded()));
        for (String key : List.of("private", "ed25519.private")) {
            Files.setPosixFilePermissions(keys.resolve(key), PosixFilePermissions.fromString("rw-------"));
        }
        Files.writeString(keys.resolve("ed25519.selector"), "ed2026\n");
        authKeyRecords = List.of(Dkimpy.txtRecord("may2013._domainkey.auth.test", KeyRecord.publish(authRsa.getPublic())),
                Dkimpy.txtRecord("ed2026._domainkey.auth.test", KeyRecord.publish(authEd25519.getPublic())));
        Files.writeString(work.resolve("auth-keys.txt"), "may2013._domainkey.auth.test " + KeyRecord.publish(authRsa.getPublic()) + "\n"
                + "ed2026._domainkey.auth.test " + KeyRecord.publish(authEd25519.getPublic()) + "\n");

        List<String> records = new ArrayList<>(List.of("--local=/test/",
                Dkimpy.txtRecord("rsa._domainkey.signed.test", KeyRecord.publish(rsa.getPublic())),
                Dkimpy.txtRecord("ed._domainkey.signed.test", KeyRecord.publish(ed25519.getPublic())), "--address=/signed.test/192.0.2.1",
                "--txt-record=_dmarc.signed.test,v=DMARC1; p=reject", "--txt-record=_dmarc.bank.test,v=DMARC1; p=reject"));
        records.addAll(authKeyRecords);
        dns = Dnsmasq.start(records.toArray(String[]::new));
        Path passwords = Files.writeString(work.resolve("flat_auth_pw"), "alice@auth.test:correct horse\n");

        postern = SERVERS.add(ServerProcess.posternWithPlugins("dkim", Map.of(
                ServerProcess.SERVER_CFG, "tls.self.signed = false\ntls.before.auth = false",
                "org.postern.dns.cfg", "nameservers = " + dns.address() + "\ntimeout.ms = 2000\nhosts.file = false",
                "org.postern.smtp.plugin.auth_flat_file.cfg", "file = " + passwords,
                "org.postern.smtp.plugin.dkim.cfg", "key_folder = " + work.resolve("dkim")),
                List.of("mail-auth", "plugin-dkim", "plugin-dmarc", "plugin-auth-flat-file"))).awaitPlugin("dkim").awaitPlugin("dmarc");
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdAskingDns(dns.port(), "dkim"));
    }

    @AfterClass
    public static void stopDns() throws InterruptedException {
        if (dns != null) {
            dns.close();
        }
    }

    /** The message signed by OpenDKIM with signed.test's RSA key. */
    private static String signedByOpenDkim(String message) throws Exception {
        Path config = Files.writeString(work.resolve("sign.conf"), "Mode s\nSyslog no\nRequireSafeKeys false\nDomain signed.test\n"
                + "Selector rsa\nKeyFile " + work.resolve("rsa.pem") + "\nCanonicalization relaxed/simple\n");
        Path file = Files.writeString(work.resolve("plain.eml"), message, StandardCharsets.ISO_8859_1);
        String output = Programs.run("", "opendkim", "-x", config.toString(), "-t", file.toString());
        return output.substring(output.indexOf("DKIM-Signature:")).strip().replaceAll("\r?\n", "\r\n") + "\r\n" + message;
    }

    /** The message signed by dkimpy with signed.test's Ed25519 key. */
    private static String signedByDkimpy(String message) throws Exception {
        return Dkimpy.run(message, "sign", "ed", "signed.test", work.resolve("ed.seed").toString(), "ed25519-sha256", "relaxed") + message;
    }

    private static String unfolded(String message) {
        return message.replace("\r\n", "\n").replaceAll("\n[ \t]+", " ");
    }

    @Test
    public void messagesSignedByOpenDkimAndDkimpyPassWithRsaAndEd25519() throws Exception {
        String message = signedByDkimpy(signedByOpenDkim(MESSAGE.formatted("both", "both")));
        assertTrue(ClientScript.replyToMessage(postern.port, message).startsWith("250 "));
        String delivered = unfolded(postern.deliveredWithSubject("data/maildir", "both"));
        assertTrue(delivered, delivered.matches("(?s).*dkim=pass header\\.d=signed\\.test header\\.s=ed header\\.b=\\S{8}; "
                + "dkim=pass header\\.d=signed\\.test header\\.s=rsa header\\.b=\\S{8}.*"));
        assertTrue(delivered, delivered.contains("X-DKIM-Authentication: domain: signed.test, selector: ed, result: pass"));
        assertTrue(delivered, delivered.contains("; dmarc=pass (p=reject dis=none) header.from=signed.test\n"));
    }

    @Test
    public void dmarcRefusesAFromDomainWithoutAnAlignedPassingSignature() throws Exception {
        assertEquals("552 failed DMARC policy", ClientScript.comparable(ClientScript.replyToMessage(postern.port,
                MESSAGE.formatted("unsigned", "unsigned"))));
        // signed.test's valid signature on a message From bank.test does not align with it
        String forged = signedByDkimpy(MESSAGE.formatted("forged", "forged").replace("joe@signed.test", "ceo@bank.test"));
        assertEquals("552 failed DMARC policy", ClientScript.comparable(ClientScript.replyToMessage(postern.port, forged)));
        assertTrue(postern.log(), postern.log().contains("pass, valid signature, neutral policy"));
    }

    @Test
    public void aTamperedMessageIsRefusedAsQpsmtpdRefusesIt() throws Exception {
        String tampered = signedByOpenDkim(MESSAGE.formatted("tampered", "tampered")).replace("We lost", "We won");
        String expected = "552 signature invalid: fail (body has been altered)";
        assertEquals(expected, ClientScript.comparable(ClientScript.replyToMessage(qpsmtpd.port, tampered)));
        assertEquals(expected, ClientScript.comparable(ClientScript.replyToMessage(postern.port, tampered)));
        assertTrue(postern.log(), postern.log().contains("fail, domain: signed.test, selector: rsa, result: fail (body has been altered)"));
    }

    @Test
    public void aValidSignatureIsAcceptedByBothServersAndAnnotatedAlike() throws Exception {
        String message = signedByOpenDkim(MESSAGE.formatted("valid", "valid"));
        assertEquals(ClientScript.comparable(ClientScript.replyToMessage(qpsmtpd.port, message)).replaceFirst(" .*", ""),
                ClientScript.comparable(ClientScript.replyToMessage(postern.port, message)).replaceFirst(" .*", ""));
        // qpsmtpd writes its Authentication-Results header before data_post, so its dkim entry never shows there
        String qpsmtpdMessage = unfolded(qpsmtpd.deliveredWithSubject("maildir", "valid"));
        assertTrue(qpsmtpdMessage, qpsmtpdMessage.contains("X-DKIM-Authentication: domain: signed.test, selector: rsa, result: pass, policy: "));
        String posternMessage = unfolded(postern.deliveredWithSubject("data/maildir", "valid"));
        assertTrue(posternMessage, posternMessage.contains("X-DKIM-Authentication: domain: signed.test, selector: rsa, result: pass\n"));
        assertTrue(posternMessage, posternMessage.contains("dkim=pass header.d=signed.test header.s=rsa"));
    }

    @Test
    public void anAuthenticatedClientsMessageIsSignedAndVerifiesWithDkimpyAndOpenDkim() throws Exception {
        String output = DistributionIT.run(0, "swaks", "--server", "127.0.0.1:" + postern.port, "--auth", "PLAIN",
                "--auth-user", "alice@auth.test", "--auth-password", "correct horse", "--from", "alice@auth.test",
                "--to", "friend@elsewhere.example", "--header", "Subject: from alice", "--body", "Dinner at eight.");
        assertTrue(output, output.contains("<-  250 2.0.0 Queued as "));
        String delivered = postern.deliveredWithSubject("data/maildir", "from alice").replace("\r\n", "\n").replace("\n", "\r\n");
        assertTrue(delivered, delivered.contains("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=auth.test; s=ed2026;"));
        assertTrue(delivered, delivered.contains("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=auth.test; s=may2013;"));
        assertEquals("pass\npass\n", Dkimpy.run(delivered, "verify", work.resolve("auth-keys.txt").toString()));
        Path config = Files.writeString(work.resolve("verify.conf"), "Mode v\nSyslog no\nTestPublicKeys " + work.resolve("auth-keys.txt") + "\n");
        Path file = Files.writeString(work.resolve("alice.eml"), delivered, StandardCharsets.ISO_8859_1);
        String verified = Programs.run("", "opendkim", "-x", config.toString(), "-t", file.toString());
        assertTrue(verified, verified.contains("verification (s=ed2026, d=auth.test, 0-bit key) succeeded"));
    }

    @Test
    public void opendkimTestkeyFindsPosternsSigningKeysMatchedByTheirRecordsInTheZone() throws Exception {
        // opendkim-testkey 2.11 compares RSA keys only ("EVP_PKEY_get1_RSA() failed" for the Ed25519 one)
        Path keys = work.resolve("dkim/auth.test");
        String checked = Programs.run("", "opendkim-testkey", "-x", testkeyConfiguration().toString(), "-d", "auth.test",
                "-s", "may2013", "-k", keys.resolve("private").toString(), "-vvv");
        assertTrue(checked, checked.contains("key OK") && !checked.contains("unsafe permissions"));
        String mismatched = Programs.runExpecting(65, "", "opendkim-testkey", "-x", testkeyConfiguration().toString(),
                "-d", "signed.test", "-s", "rsa", "-k", keys.resolve("private").toString());
        assertTrue(mismatched, mismatched.contains("keys do not match"));
    }

    /**
     * opendkim-testkey's resolver is libunbound's, configured to ask dnsmasq; unbound keeps the test. zone (RFC 6761)
     * and loopback name servers to itself unless told otherwise.
     */
    private static Path testkeyConfiguration() throws Exception {
        Path unbound = Files.writeString(work.resolve("unbound.conf"), "server:\n  do-not-query-localhost: no\n"
                + "  local-zone: \"test.\" nodefault\nforward-zone:\n  name: \".\"\n  forward-addr: 127.0.0.1@" + dns.port() + "\n");
        return Files.writeString(work.resolve("testkey.conf"), "ResolverConfiguration " + unbound + "\n");
    }

    @Test
    public void opendkimTestmsgVerifiesPosternsSignaturesAndRefusesThemOnATamperedCopy() throws Exception {
        Assume.assumeTrue("needs root's unshare(1) for a private network and /etc/resolv.conf", Programs.runExpecting(0, "",
                "sh", "-c", "unshare --mount --net true && echo yes || echo no").strip().equals("yes"));
        String output = DistributionIT.run(0, "swaks", "--server", "127.0.0.1:" + postern.port, "--auth", "PLAIN",
                "--auth-user", "alice@auth.test", "--auth-password", "correct horse", "--from", "alice@auth.test",
                "--to", "friend@elsewhere.example", "--header", "Subject: testmsg", "--body", "Lunch at noon.");
        assertTrue(output, output.contains("<-  250 2.0.0 Queued as "));
        String delivered = postern.deliveredWithSubject("data/maildir", "testmsg").replace("\r\n", "\n").replace("\n", "\r\n");
        assertEquals("", verifiedByOpendkimTestmsg(0, delivered));
        String refused = verifiedByOpendkimTestmsg(70, delivered.replace("Lunch at noon.", "Lunch at one."));
        assertTrue(refused, refused.contains("dkim_eom(): Bad signature"));
    }

    /**
     * What opendkim-testmsg prints verifying this message. It asks the system resolver, that is port 53 of the name
     * server in /etc/resolv.conf, so it runs in network and mount namespaces of its own, beside a dnsmasq on
     * 127.0.0.1:53 serving auth.test's key records there.
     */
    private static String verifiedByOpendkimTestmsg(int exitStatus, String message) throws Exception {
        Path file = Files.writeString(work.resolve("testmsg.eml"), message, StandardCharsets.ISO_8859_1);
        Path resolvConf = Files.writeString(work.resolve("resolv.conf"), "nameserver 127.0.0.1\n");
        String script = "ip link set lo up && mount --bind \"$1\" /etc/resolv.conf || exit 1\n"
                + "message=$2; shift 2\n"
                + "/usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --pid-file --port=53 --listen-address=127.0.0.1"
                + " --bind-interfaces --user=root \"$@\" >/dev/null 2>&1 &\n"
                + "until grep -q ' 0100007F:0035 ' /proc/net/udp; do sleep 0.05; done\n"
                + "opendkim-testmsg < \"$message\"; status=$?\nkill $!\nexit $status\n";
        List<String> command = new ArrayList<>(List.of("unshare", "--mount", "--net", "sh", "-c", script, "sh",
                resolvConf.toString(), file.toString()));
        command.addAll(authKeyRecords);
        return Programs.runExpecting(exitStatus, "", command.toArray(String[]::new));
    }

    @Test
    public void opendkimTestmsgsRsaSha1SignatureIsAPermerrorForPosternAndPassesInQpsmtpd() throws Exception {
        // opendkim-testmsg signs with rsa-sha1 only; -C keeps CRLF (without it 2.11 prints the end of b= twice)
        // From a domain without a DMARC policy, which would refuse the message for want of an aligned pass
        String message = Programs.run(MESSAGE.formatted("sha1", "sha1").replace("joe@signed.test", "joe@elsewhere.test"), "opendkim-testmsg", "-C", "-d", "signed.test",
                "-s", "rsa", "-k", work.resolve("rsa.pem").toString());
        assertTrue(message, message.startsWith("DKIM-Signature: v=1; a=rsa-sha1; "));
        assertTrue(ClientScript.replyToMessage(qpsmtpd.port, message).startsWith("250 "));
        String qpsmtpdMessage = unfolded(qpsmtpd.deliveredWithSubject("maildir", "sha1"));
        assertTrue(qpsmtpdMessage, qpsmtpdMessage.contains("X-DKIM-Authentication: domain: signed.test, selector: rsa, result: pass"));
        // RFC 8301: verifiers must not consider rsa-sha1 signatures valid
        assertTrue(ClientScript.replyToMessage(postern.port, message).startsWith("250 "));
        String posternMessage = unfolded(postern.deliveredWithSubject("data/maildir", "sha1"));
        assertTrue(posternMessage, posternMessage.contains("dkim=permerror (rsa-sha1 is not accepted [RFC 8301]) header.d=signed.test header.s=rsa"));
        assertTrue(posternMessage, !posternMessage.contains("X-DKIM-Authentication"));
    }
}
