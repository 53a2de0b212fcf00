package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.composite;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.Hashtable;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postern.smtp.testkit.Dnsmasq;

/**
 * The rhsbl plugin against a real DNS server, through the server's resolver: dnsmasq serving two right-hand-side
 * blocklists on a loopback port, rhsbl.test with TXT records and quiet.test without, where spam.test is listed
 * and refused.test gets an error code; and a DNS server that never answers.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RhsblIT extends PosternTestSupport {
    private static final String QUIET_ZONE = "quiet.test does not support abuse@domain";
    private static Dnsmasq dns;
    private static int port;

    @Override
    @Configuration
    public Option[] config() {
        return new Option[] {composite(super.config()), dnsResolver(),
            postern("plugin-rhsbl")};
    }

    @Before
    public void startDnsAndServer() throws Exception {
        // pax-exam runs @AfterClass after each test method, so dnsmasq starts again (on a new port) when it was stopped
        if (dns == null) {
            dns = Dnsmasq.start("--local=/rhsbl.test/", "--local=/quiet.test/",
                    "--address=/spam.test.rhsbl.test/127.0.0.2", "--txt-record=spam.test.rhsbl.test,is listed for testing",
                    "--address=/spam.test.quiet.test/127.0.0.2",
                    "--address=/refused.test.rhsbl.test/127.255.255.254");
        }
        useNameserver(dns.address(), 2000);
        configItems(Map.of("rhsbl_zones", "rhsbl.test"));
        if (port == 0) {
            port = startServer(Map.of());
        }
        awaitPlugin("rhsbl");
    }

    @AfterClass
    public static void stopDns() throws InterruptedException {
        if (dns != null) {
            dns.close();
            dns = null;
        }
    }


    private static String mailReply(String sender) throws IOException {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            client.command("EHLO client.example");
            return client.command("MAIL FROM:" + sender);
        }
    }

    private static boolean mailReplyIs(String sender, String prefix) {
        try {
            return mailReply(sender).startsWith(prefix);
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    public void aListedSenderDomainIsRefusedWithTheTxtTextAndOthersAreAccepted() throws Exception {
        await("the listing of spam.test", () -> mailReplyIs("<a@spam.test>", "550"));
        assertEquals("550 5.7.1 Mail from spam.test rejected because it is listed for testing", mailReply("<a@spam.test>"));
        assertTrue(mailReply("<a@clean.test>").startsWith("250 2.1.0"));
        assertTrue("an error code is no listing", mailReply("<a@refused.test>").startsWith("250 2.1.0"));
        assertTrue("the null sender is never looked up", mailReply("<>").startsWith("250 2.1.0"));
    }

    @Test
    public void aZoneLineWithItsOwnTextGivesTheReply() throws Exception {
        configItems(Map.of("rhsbl_zones", QUIET_ZONE));
        await("the quiet.test zone", () -> mailReplyIs("<a@spam.test>", "550 5.7.1 Mail from spam.test rejected because it does"));
        assertEquals("550 5.7.1 Mail from spam.test rejected because it does not support abuse@domain", mailReply("<a@spam.test>"));
    }

    @Test
    public void rejectTypeInThePluginsConfigurationDisconnects() throws Exception {
        org.osgi.service.cm.Configuration plugin = configAdmin.getConfiguration("org.postern.smtp.plugin.rhsbl", "?");
        try {
            plugin.update(new Hashtable<>(Map.of("reject_type", "disconnect")));
            await("reject_type disconnect", () -> {
                try (SmtpClient client = new SmtpClient(port)) {
                    client.reply();
                    client.command("EHLO client.example");
                    return client.command("MAIL FROM:<a@spam.test>").startsWith("550 5.7.1 Mail from spam.test")
                            && client.closedByServerWithin(2000);
                } catch (IOException e) {
                    return false;
                }
            });
        } finally {
            plugin.delete();
        }
    }

    @Test
    public void aDnsServerThatNeverAnswersLetsTheSenderThroughAfterTheTimeout() throws Exception {
        await("the plugin to refuse spam.test", () -> mailReplyIs("<a@spam.test>", "550"));
        // bound and never read: queries go unanswered rather than bounce
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            useNameserver("127.0.0.1:" + silent.getLocalPort(), 400);
            await("the silent server to be used", () -> mailReplyIs("<a@spam.test>", "250"));
            long start = System.nanoTime();
            String reply = mailReply("<a@spam.test>");
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(reply, reply.startsWith("250 2.1.0"));
            assertTrue("answered after " + millis + " ms, before the DNS timeout", millis >= 350);
        }
    }
}
