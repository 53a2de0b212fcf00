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
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postern.smtp.testkit.Dnsmasq;

/**
 * The resolvable_fromhost plugin through the server's DNS resolver, against dnsmasq on a loopback port: the
 * MAIL FROM replies for a domain with a usable MX, with an address and no MX, with an MX in an invalid network,
 * with an MX host that does not exist, with a null MX, that does not exist, that the server refuses to answer
 * for, and whose server never answers.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ResolvableFromhostIT extends PosternTestSupport {
    private static final String PID = "org.postern.smtp.plugin.resolvable_fromhost";
    private static final String FQDN_REQUIRED = "FQDN required in the envelope sender";
    private static final String NOT_RESOLVED = "Temporary address resolution failure";
    private static final String NULL_MX = "Sender address has null MX";

    private static Dnsmasq dnsmasq;

    @Override
    @Configuration
    public Option[] config() {
        return new Option[] {composite(super.config()), dnsResolver(),
            postern("plugin-resolvable-fromhost")};
    }

    // pax-exam may run @AfterClass after each test method (see SpamAssassinIT): dnsmasq() then starts it again.
    @AfterClass
    public static void stopDnsmasq() throws InterruptedException {
        if (dnsmasq != null) {
            dnsmasq.close();
            dnsmasq = null;
        }
    }

    /**
     * dnsmasq's address, started on first use. Every other name under .test does not exist, and the reverse
     * zone answers at once so the server's own PTR lookup of the client never waits; names elsewhere are refused.
     */
    private static synchronized String dnsmasq() throws Exception {
        if (dnsmasq == null) {
            dnsmasq = Dnsmasq.start("--local=/test/", "--local=/in-addr.arpa/",
                    "--mx-host=good.test,mx.good.test,10", "--host-record=mx.good.test,192.0.2.10",
                    "--host-record=plain.test,192.0.2.20",
                    "--host-record=v6.test,2001:db8::1",
                    "--mx-host=private.test,mx.private.test,10", "--host-record=mx.private.test,10.0.0.1",
                    "--mx-host=dangling.test,gone.dangling.test,10",
                    "--mx-host=nomail.test,.,0");
        }
        return dnsmasq.address();
    }


    private void configurePlugin(String reject, String rejectType) throws IOException {
        configAdmin.getConfiguration(PID, "?").update(new Hashtable<>(Map.of("reject", reject, "reject_type", rejectType)));
    }

    /** The reply to MAIL FROM with this sender, after EHLO, on a new connection; the error if there was none. */
    private static String mailReply(int port, String sender) {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            client.command("EHLO client.example");
            return client.command("MAIL FROM:" + sender);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** Starts the server with the plugin configured so, and waits until the plugin answers from dnsmasq's records. */
    private int serverUsingDnsmasq(String reject, String rejectType, String danglingReply) throws Exception {
        useNameserver(dnsmasq(), 2000);
        configurePlugin(reject, rejectType);
        int port = startServer(Map.of());
        awaitPlugin("resolvable_fromhost");
        await("the dangling MX to be answered '" + danglingReply + "'",
                () -> mailReply(port, "<a@dangling.test>").equals(danglingReply));
        return port;
    }

    @Test
    public void senderDomainsThatCouldTakeABounceAreAcceptedAndTheOthersDeferred() throws Exception {
        int port = serverUsingDnsmasq("1", "soft", "450 4.1.8 " + FQDN_REQUIRED);
        for (String sender : new String[] {"<a@good.test>", "<a@plain.test>", "<a@v6.test>", "<>", "<a@[192.0.2.1]>"}) {
            String reply = mailReply(port, sender);
            assertTrue(sender + ": " + reply, reply.startsWith("250 "));
        }
        assertEquals("450 4.1.8 " + FQDN_REQUIRED, mailReply(port, "<a@private.test>"));
        assertEquals("450 4.7.27 " + NULL_MX, mailReply(port, "<a@nomail.test>"));
        assertEquals("450 4.4.3 " + NOT_RESOLVED, mailReply(port, "<a@bad.test>"));
        assertEquals("450 4.4.3 " + NOT_RESOLVED, mailReply(port, "<a@refused.example>"));
    }

    @Test
    public void rejectTypePermRefusesWhatTheDnsAnsweredButStillDefersWhatItCouldNot() throws Exception {
        int port = serverUsingDnsmasq("1", "perm", "550 5.1.8 " + FQDN_REQUIRED);
        assertEquals("550 5.7.27 " + NULL_MX, mailReply(port, "<a@nomail.test>"));
        assertEquals("550 5.4.3 " + NOT_RESOLVED, mailReply(port, "<a@bad.test>"));
        assertEquals("450 4.4.3 " + NOT_RESOLVED, mailReply(port, "<a@refused.example>"));
        assertTrue(mailReply(port, "<a@good.test>").startsWith("250 "));

        configurePlugin("0", "perm");
        await("reject 0 to let the dangling MX through", () -> mailReply(port, "<a@dangling.test>").startsWith("250 "));
        assertTrue(mailReply(port, "<a@nomail.test>").startsWith("250 "));
    }

    @Test
    public void aDnsServerThatNeverAnswersDefersTheSenderAfterTheTimeout() throws Exception {
        int port = serverUsingDnsmasq("1", "perm", "550 5.1.8 " + FQDN_REQUIRED);
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            useNameserver("127.0.0.1:" + silent.getLocalPort(), 500);
            await("the silent server to be asked", () -> mailReply(port, "<a@slow.test>").equals("450 4.4.3 " + NOT_RESOLVED));
            try (SmtpClient client = new SmtpClient(port)) {
                client.reply();
                client.command("EHLO client.example");
                long start = System.nanoTime();
                String reply = client.command("MAIL FROM:<a@slower.test>");
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertEquals("450 4.4.3 " + NOT_RESOLVED, reply);
                assertTrue("answered after " + millis + " ms, before the DNS timeout", millis >= 450);
            }
        }
    }
}
