package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.postern.smtp.testkit.Dnsmasq;

/**
 * uribl against a real DNS server: dnsmasq on a loopback port serves two URI blocklists, uribl.test (the plugin's
 * action, add-header) and deny.test (its zone line says deny). spam.example.net is listed in uribl.test,
 * bad.example.com in deny.test, and for refused.example.org uribl.test answers 127.255.255.254, a list's error code.
 * qpsmtpd's plugin runs side by side, pointed at the same dnsmasq through Net::DNS's environment variables by a
 * test plugin loaded before it, which also answers the config item uribl_zones.
 */
public class UriblIT {
    private static final String ZONES = "uribl.test, deny.test -1 deny";
    private static final String HEAD = "From: a@example.org\r\nTo: b@localhost\r\n";

    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Dnsmasq dns;
    private static ServerProcess postern;
    private static ServerProcess qpsmtpd;

    @BeforeClass
    public static void startDnsAndServers() throws Exception {
        dns = Dnsmasq.start("--local=/uribl.test/", "--local=/deny.test/",
                "--address=/spam.example.net.uribl.test/127.0.0.2", "--txt-record=spam.example.net.uribl.test,listed for testing",
                "--address=/bad.example.com.deny.test/127.0.0.2", "--txt-record=bad.example.com.deny.test,refused for testing",
                "--address=/refused.example.org.uribl.test/127.255.255.254",
                "--address=/refused.example.org.deny.test/127.255.255.254");
        postern = SERVERS.add(ServerProcess.posternWithPlugins("uribl", Map.of(
                "org.postern.dns.cfg", "nameservers = " + dns.address() + "\ntimeout.ms = 2000\nhosts.file = false",
                "org.postern.smtp.config.cfg", "uribl_zones = " + ZONES), List.of("plugin-uribl"))).awaitPlugin("uribl");
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpd(List.of("localhost"), Map.of("uribl_test_dns", qpsmtpdDnsPlugin(dns.port())),
                "uribl_test_dns", "uribl"));
    }

    /** Points Net::DNS at dnsmasq before uribl makes its resolver, and gives uribl the same zones as Postern. */
    private static String qpsmtpdDnsPlugin(int port) {
        return """
                use Qpsmtpd::Constants;
                sub init {
                    $ENV{RES_NAMESERVERS} = '127.0.0.1';
                    $ENV{RES_OPTIONS} = 'port:%d';
                }
                sub hook_config {
                    my ($self, $transaction, $item) = @_;
                    return DECLINED unless $item eq 'uribl_zones';
                    return (OK, 'uribl.test', 'deny.test -1 deny');
                }
                """.formatted(port);
    }

    @AfterClass
    public static void stopDns() throws InterruptedException {
        if (dns != null) {
            dns.close();
        }
    }

    /** The reply to the end of DATA, without Postern's enhanced status code. */
    private static String dataReply(ServerProcess server, String message) throws Exception {
        return ClientScript.comparable(ClientScript.replyToMessage(server.port, message));
    }

    private static String plainMessage(String subject, String text) {
        return HEAD + "Subject: " + subject + "\r\n\r\n" + text + "\r\n";
    }

    @Test
    public void aUriListedInADenyZoneIsRefusedWithTheListsText() throws Exception {
        String message = plainMessage("deny", "Visit <http://bad.example.com/offer> now.");
        assertEquals("552 bad.example.com in deny.test: refused for testing", dataReply(postern, message));
        assertEquals(dataReply(qpsmtpd, message), dataReply(postern, message));
    }

    @Test
    public void aUriListedInAnAddHeaderZoneIsMarkedAndAccepted() throws Exception {
        String message = plainMessage("marked", "Cheap: spam.example.net");
        String reply = dataReply(postern, message);
        assertTrue(reply, reply.startsWith("250 "));
        assertTrue(dataReply(qpsmtpd, message).startsWith("250 "));
        String header = "X-URIBL-Match: spam.example.net in uribl.test: listed for testing";
        assertTrue(postern.deliveredWithSubject("data/maildir", "marked").contains(header));
        assertTrue(qpsmtpd.deliveredWithSubject("maildir", "marked").contains(header));
    }

    @Test
    public void anUnlistedUriIsAcceptedUnmarked() throws Exception {
        String message = plainMessage("clean", "See https://www.clean.example.com/ and http://192.0.2.1/.");
        for (ServerProcess server : List.of(postern, qpsmtpd)) {
            assertTrue(dataReply(server, message).startsWith("250 "));
        }
        assertFalse(postern.deliveredWithSubject("data/maildir", "clean").contains("X-URIBL-Match"));
    }

    /** qpsmtpd counts any answer with a masked bit set, so it refuses where Postern, by RFC 5782, does not. */
    @Test
    public void anErrorCodeAnswerIsNoListing() throws Exception {
        String message = plainMessage("error code", "http://refused.example.org/");
        assertTrue(dataReply(postern, message).startsWith("250 "));
        assertEquals("552 refused.example.org in deny.test: 127.255.255.254", dataReply(qpsmtpd, message));
        assertFalse(postern.deliveredWithSubject("data/maildir", "error code").contains("X-URIBL-Match"));
    }

    /** Postern decodes MIME parts; qpsmtpd scans the raw lines, where base64 hides the URI. */
    @Test
    public void aUriInABase64HtmlPartIsFound() throws Exception {
        String html = "<html><body><a href=\"http://bad.example.com/\">click</a></body></html>";
        String message = HEAD + "Subject: base64\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
                + "--b\r\nContent-Type: text/plain\r\n\r\nSee the HTML part.\r\n"
                + "--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + Base64.getMimeEncoder().encodeToString(html.getBytes(StandardCharsets.US_ASCII)) + "\r\n--b--\r\n";
        assertEquals("552 bad.example.com in deny.test: refused for testing", dataReply(postern, message));
        assertTrue(dataReply(qpsmtpd, message).startsWith("250 "));
    }

    @Test
    public void aQuotedPrintableSoftLineBreakInsideAUrlIsJoined() throws Exception {
        String message = HEAD + "Subject: qp\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n\r\nVisit http://bad.exa=\r\nmple.com/ now\r\n";
        assertEquals("552 bad.example.com in deny.test: refused for testing", dataReply(postern, message));
        assertEquals(dataReply(qpsmtpd, message), dataReply(postern, message));
    }
}
