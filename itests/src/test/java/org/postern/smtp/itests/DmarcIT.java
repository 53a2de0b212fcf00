package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.postern.smtp.testkit.Dnsmasq;

/**
 * dmarc after sender_permitted_from (reject 0: SPF only annotates, DMARC decides) against a real DNS server, dnsmasq,
 * which serves SPF and DMARC policies of *.test domains; the client, 127.0.0.1, may send for dmarc-pass.com and dmarc-other.com.
 * qpsmtpd 0.94's dmarc (Mail::DMARC::PurePerl) runs side by side, pointed at the same dnsmasq through Net::DNS's
 * environment. DKIM's part is DkimIT's: here no message is signed, so only SPF can align.
 */
public class DmarcIT {
    private static final String SPF_PERMITS_LOOPBACK = "v=spf1 ip4:127.0.0.1 -all";

    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Dnsmasq dns;
    private static ServerProcess postern;
    private static ServerProcess qpsmtpd;

    @BeforeClass
    public static void startDnsAndServers() throws Exception {
        dns = Dnsmasq.start("--local=/com/",
                "--txt-record=dmarc-pass.com," + SPF_PERMITS_LOOPBACK,
                "--txt-record=_dmarc.dmarc-pass.com,v=DMARC1; p=reject",
                "--txt-record=dmarc-other.com," + SPF_PERMITS_LOOPBACK,
                "--txt-record=_dmarc.dmarc-reject.com,v=DMARC1; p=reject; rua=mailto:dmarc@dmarc-reject.com",
                "--txt-record=_dmarc.dmarc-quarantine.com,v=DMARC1; p=quarantine",
                "--txt-record=_dmarc.dmarc-monitor.com,v=DMARC1; p=none",
                // Mail::DMARC applies no policy to a From domain without an MX, NS, A or AAAA record
                "--host-record=dmarc-reject.com,192.0.2.1", "--host-record=dmarc-quarantine.com,192.0.2.1",
                "--host-record=dmarc-monitor.com,192.0.2.1", "--host-record=dmarc-pass.com,192.0.2.1");
        postern = SERVERS.add(ServerProcess.posternWithPlugins("dmarc", Map.of(
                "org.postern.dns.cfg", "nameservers = " + dns.address() + "\ntimeout.ms = 2000\nhosts.file = false",
                "org.postern.smtp.plugin.sender_permitted_from.cfg", "reject = 1"),
                List.of("plugin-sender-permitted-from", "plugin-dmarc"))).awaitPlugin("dmarc");
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdAskingDns(dns.port(), "sender_permitted_from reject 1", "dmarc"));
    }

    @AfterClass
    public static void stopDns() throws InterruptedException {
        if (dns != null) {
            dns.close();
        }
    }

    /** One session sending each message from the sender, with its From and Subject; the replies to their final dots. */
    private static List<String> send(ServerProcess server, String sender, String... fromAndSubject) throws Exception {
        List<String> replies = new ArrayList<>();
        try (SmtpClient client = new SmtpClient(server.port)) {
            client.reply();
            client.command("EHLO client.example");
            for (int i = 0; i < fromAndSubject.length; i += 2) {
                client.command("MAIL FROM:<" + sender + ">");
                client.command("RCPT TO:<b@localhost>");
                client.command("DATA");
                String from = fromAndSubject[i].isEmpty() ? "" : "From: " + fromAndSubject[i] + "\r\n";
                client.send(from + "Subject: " + fromAndSubject[i + 1] + "\r\n\r\nbody\r\n.\r\n");
                replies.add(ClientScript.comparable(client.reply()));
            }
        }
        return replies;
    }

    private static String reply(ServerProcess server, String sender, String from) throws Exception {
        return send(server, sender, from, "reply " + from).get(0);
    }

    /** The Authentication-Results field of the delivered message with this subject, unfolded. */
    private static String authenticationResults(String subject) throws Exception {
        String message = postern.deliveredWithSubject("data/maildir", subject).replace("\r\n", "\n").replaceAll("\n[ \t]+", " ");
        return message.lines().filter(line -> line.startsWith("Authentication-Results:")).findFirst().orElse("(none)");
    }

    @Test
    public void aFromDomainWhoseSpfPassAlignsIsAcceptedWithDmarcPass() throws Exception {
        assertTrue(reply(qpsmtpd, "a@dmarc-pass.com", "Alice <alice@dmarc-pass.com>").startsWith("250 "));
        assertTrue(reply(postern, "a@dmarc-pass.com", "Alice <alice@dmarc-pass.com>").startsWith("250 "));
        assertTrue(authenticationResults("reply Alice <alice@dmarc-pass.com>"), authenticationResults("reply Alice <alice@dmarc-pass.com>")
                .endsWith("; spf=pass smtp.mailfrom=dmarc-pass.com; dmarc=pass (p=reject dis=none) header.from=dmarc-pass.com"));
    }

    @Test
    public void aForgedFromUnderPRejectIsRefusedAsByQpsmtpd() throws Exception {
        String refusal = reply(qpsmtpd, "a@dmarc-other.com", "CEO <ceo@dmarc-reject.com>");
        assertEquals("552 failed DMARC policy", refusal);
        assertEquals(refusal, reply(postern, "a@dmarc-other.com", "CEO <ceo@dmarc-reject.com>"));
        assertTrue(postern.log(), postern.log().contains("fail, p=reject dis=reject"));
    }

    @Test
    public void quarantineIsRefusedAndNoneToleratedAsByQpsmtpd() throws Exception {
        assertEquals(reply(qpsmtpd, "a@dmarc-other.com", "q@dmarc-quarantine.com"), reply(postern, "a@dmarc-other.com", "q@dmarc-quarantine.com"));
        assertEquals("552 failed DMARC policy", reply(postern, "a@dmarc-other.com", "q@dmarc-quarantine.com"));
        assertTrue(reply(qpsmtpd, "a@dmarc-other.com", "m@dmarc-monitor.com").startsWith("250 "));
        assertTrue(reply(postern, "a@dmarc-other.com", "m@dmarc-monitor.com").startsWith("250 "));
        assertTrue(authenticationResults("reply m@dmarc-monitor.com").endsWith("; dmarc=fail (p=none dis=none) header.from=dmarc-monitor.com"));
    }

    @Test
    public void aMessageWithoutFromIsRefusedAsByQpsmtpd() throws Exception {
        String refusal = send(qpsmtpd, "a@dmarc-pass.com", "", "no from").get(0);
        assertEquals("552 empty from address, null sender?", refusal);
        assertEquals(refusal, send(postern, "a@dmarc-pass.com", "", "no from").get(0));
    }

    @Test
    public void eachMessageOfASessionCarriesOnlyItsOwnResults() throws Exception {
        assertEquals(List.of("250 Queued", "250 Queued"), send(postern, "a@dmarc-pass.com", "a@dmarc-pass.com", "first of two",
                "m@dmarc-monitor.com", "second of two").stream().map(reply -> reply.replaceFirst(" as .*", "")).toList());
        assertTrue(authenticationResults("first of two").endsWith("; spf=pass smtp.mailfrom=dmarc-pass.com; "
                + "dmarc=pass (p=reject dis=none) header.from=dmarc-pass.com"));
        assertTrue(authenticationResults("second of two"), authenticationResults("second of two").endsWith(
                "; spf=pass smtp.mailfrom=dmarc-pass.com; dmarc=fail (p=none dis=none) header.from=dmarc-monitor.com"));
    }

    @Test
    public void aPolicyThatAsksForReportsLeavesARecordForThem() throws Exception {
        reply(postern, "a@dmarc-other.com", "ceo@dmarc-reject.com");
        String expected = "\\d+\t127\\.0\\.0\\.1\tdmarc-reject\\.com\tdmarc-other\\.com\tlocalhost\tdmarc-reject\\.com\treject\treject\t100\tr\tr\t"
                + "reject\tfail\tfail\t\tdmarc-other\\.com:mfrom:pass\tmailto:dmarc@dmarc-reject\\.com\t0";
        long deadline = System.currentTimeMillis() + 10_000;
        // the plugin writes records on a thread of its own, after the reply
        while (recordLines().stream().noneMatch(line -> line.matches(expected)) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(recordLines().toString(), recordLines().stream().anyMatch(line -> line.matches(expected)));
    }

    /** Every line of every file in the plugin's report_folder. */
    private static List<String> recordLines() throws IOException {
        Path folder = postern.base.resolve("data/dmarc");
        List<String> lines = new ArrayList<>();
        if (Files.isDirectory(folder)) {
            try (Stream<Path> files = Files.list(folder)) {
                for (Path file : files.toList()) {
                    lines.addAll(Files.readAllLines(file));
                }
            }
        }
        return lines;
    }
}
