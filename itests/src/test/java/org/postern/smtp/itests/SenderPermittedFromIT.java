package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.postern.smtp.testkit.Dnsmasq;

/**
 * sender_permitted_from at reject level 3 against a real DNS server: dnsmasq on a loopback port serves the SPF
 * policies of pass.test (the client, 127.0.0.1, may send), fail.test ({@code -all}), softfail.test ({@code ~all}),
 * and none.test, which has none. qpsmtpd's plugin (Mail::SPF over Net::DNS) runs side by side, pointed at the same
 * dnsmasq through Net::DNS's environment variables by a test plugin loaded before it.
 */
public class SenderPermittedFromIT {
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Dnsmasq dns;
    private static ServerProcess postern;
    private static ServerProcess qpsmtpd;

    @BeforeClass
    public static void startDnsAndServers() throws Exception {
        dns = Dnsmasq.start("--local=/test/",
                "--txt-record=pass.test,v=spf1 ip4:127.0.0.1 -all",
                "--txt-record=fail.test,v=spf1 ip4:192.0.2.1 -all",
                "--txt-record=softfail.test,v=spf1 ip4:192.0.2.1 ~all",
                "--address=/none.test/192.0.2.1");
        postern = SERVERS.add(ServerProcess.posternWithPlugins("spf", Map.of(
                "org.postern.dns.cfg", "nameservers = " + dns.address() + "\ntimeout.ms = 2000\nhosts.file = false",
                "org.postern.smtp.plugin.sender_permitted_from.cfg", "reject = 3"),
                List.of("plugin-sender-permitted-from"))).awaitPlugin("sender_permitted_from");
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdAskingDns(dns.port(), "sender_permitted_from reject 3"));
    }

    @AfterClass
    public static void stopDns() throws InterruptedException {
        if (dns != null) {
            dns.close();
        }
    }

    /** The reply to MAIL FROM after HELO, as comparable with qpsmtpd's. */
    private static String mailReply(ServerProcess server, String sender) throws Exception {
        try (SmtpClient client = new SmtpClient(server.port)) {
            client.reply();
            client.command("HELO client.example");
            return ClientScript.comparable(client.command("MAIL FROM:<" + sender + ">"));
        }
    }

    private static void send(ServerProcess server, String sender, String subject) throws Exception {
        try (SmtpClient client = new SmtpClient(server.port)) {
            client.reply();
            client.command("HELO client.example");
            client.command("MAIL FROM:<" + sender + ">");
            client.command("RCPT TO:<b@localhost>");
            client.command("DATA");
            client.send("Subject: " + subject + "\r\n\r\nbody\r\n.\r\n");
            String reply = client.reply();
            assertTrue(reply, reply.startsWith("250"));
        }
    }

    /** The Received-SPF field of a delivered message, unfolded. */
    private static String receivedSpf(String message) {
        String unfolded = message.replace("\r\n", "\n").replaceAll("\n[ \t]+", " ");
        return unfolded.lines().filter(line -> line.startsWith("Received-SPF:")).findFirst().orElse("(none)");
    }

    @Test
    public void aPermittedClientIsAcceptedAndTheMessageCarriesReceivedSpf() throws Exception {
        assertTrue(mailReply(postern, "a@pass.test").startsWith("250 "));
        assertEquals(mailReply(qpsmtpd, "a@pass.test"), mailReply(postern, "a@pass.test"));

        send(postern, "a@pass.test", "pass");
        send(qpsmtpd, "a@pass.test", "pass");
        String posternMessage = postern.deliveredWithSubject("data/maildir", "pass");
        assertTrue(posternMessage, receivedSpf(posternMessage).matches("Received-SPF: pass \\(domain of pass\\.test designates 127\\.0\\.0\\.1 "
                + "as permitted sender\\) receiver=\\S+; identity=mailfrom; envelope-from=\"a@pass\\.test\"; helo=client\\.example; "
                + "client-ip=127\\.0\\.0\\.1"));
        assertTrue(posternMessage, posternMessage.contains("spf=pass smtp.mailfrom=pass.test"));
        String qpsmtpdMessage = qpsmtpd.deliveredWithSubject("maildir", "pass");
        assertTrue(qpsmtpdMessage, qpsmtpdMessage.contains("spf=pass smtp.mailfrom=pass.test"));
        assertTrue(qpsmtpdMessage, receivedSpf(qpsmtpdMessage).matches("Received-SPF: pass \\(.*\\) receiver=\\S+; identity=mailfrom; "
                + "envelope-from=\"a@pass\\.test\"; helo=client\\.example; client-ip=127\\.0\\.0\\.1"));
    }

    @Test
    public void aForgedSenderIsRefused() throws Exception {
        assertEquals("550 SPF - forgery: domain of fail.test does not designate 127.0.0.1 as permitted sender",
                mailReply(postern, "a@fail.test"));
        assertTrue(mailReply(qpsmtpd, "a@fail.test").startsWith("550 SPF - forgery: fail.test: "));
    }

    @Test
    public void aSoftFailureIsDeferredAtLevel3() throws Exception {
        assertEquals("450 SPF - fail: transitioning domain of softfail.test does not designate 127.0.0.1 as permitted sender",
                mailReply(postern, "a@softfail.test"));
        assertTrue(mailReply(qpsmtpd, "a@softfail.test").startsWith("450 SPF - fail: softfail.test: "));
    }

    @Test
    public void aDomainWithoutPolicyIsAcceptedAndMarkedNone() throws Exception {
        assertEquals(mailReply(qpsmtpd, "a@none.test"), mailReply(postern, "a@none.test"));
        assertTrue(mailReply(postern, "a@none.test").startsWith("250 "));
        send(postern, "a@none.test", "none");
        assertTrue(receivedSpf(postern.deliveredWithSubject("data/maildir", "none")).startsWith(
                "Received-SPF: none (127.0.0.1 is neither permitted nor denied by domain of none.test)"));
    }

    @Test
    public void theNullSenderIsNotChecked() throws Exception {
        assertEquals(mailReply(qpsmtpd, ""), mailReply(postern, ""));
        send(postern, "", "bounce");
        assertEquals("(none)", receivedSpf(postern.deliveredWithSubject("data/maildir", "bounce")));
    }
}
