package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.composite;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
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
 * The dnsbl plugin against a real DNS server: dnsmasq on a loopback port serving blocklist zones in which
 * 127.0.0.1 is listed, not listed, or answered with a blocklist's error code; and a server that never answers.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DnsblIT extends PosternTestSupport {
    private static Dnsmasq dns;

    @Override
    @Configuration
    public Option[] config() {
        return new Option[] {composite(super.config()), dnsResolver(), postern("plugin-dnsbl")};
    }

    /** pax-exam's native container may run this after each test method: the next one starts dnsmasq again. */
    @AfterClass
    public static void stopDns() throws InterruptedException {
        if (dns != null) {
            dns.close();
            dns = null;
        }
    }

    private static String dns() throws Exception {
        if (dns == null) {
            dns = Dnsmasq.start("--local=/test/",
                    "--address=/1.0.0.127.bl.test/127.0.0.2", "--txt-record=1.0.0.127.bl.test,Listed in bl.test - see https://bl.test/",
                    "--address=/1.0.0.127.quota.test/127.255.255.254");
        }
        return dns.address();
    }

    private static String greeting(int port) throws IOException {
        try (SmtpClient client = new SmtpClient(port)) {
            return client.reply();
        }
    }

    private int serverWithZones(String zones) throws Exception {
        configItems(Map.of("dnsbl_zones", zones, "rcpthosts", "localhost"));
        return startServer(Map.of());
    }

    @Test
    public void aListedClientIsRefusedAtConnectWithTheListsTextAndAnUnlistedOneIsGreeted() throws Exception {
        useNameserver(dns());
        int port = serverWithZones("clean.test, bl.test");
        await("the blocklist verdict", () -> {
            try {
                return greeting(port).equals("550 5.7.1 Listed in bl.test - see https://bl.test/");
            } catch (IOException e) {
                return false;
            }
        });
        int clean = serverWithZones("clean.test");
        assertTrue(greeting(clean).startsWith("220 "));
    }

    @Test
    public void aBlocklistsErrorCodeIsNotAListing() throws Exception {
        useNameserver(dns());
        int port = serverWithZones("quota.test");
        assertTrue(greeting(port).startsWith("220 "));
    }

    @Test
    public void aDnsServerThatNeverAnswersLetsTheClientInAfterTheTimeout() throws Exception {
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            useNameserver("127.0.0.1:" + silent.getLocalPort(), 400);
            int port = serverWithZones("bl.test");
            long start = System.nanoTime();
            String reply = greeting(port);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(reply, reply.startsWith("220 "));
            assertTrue("greeted after " + millis + " ms, before the DNS timeout", millis >= 350);
        }
    }

    @Test
    public void theRejectTypeOptionIsQpsmtpds() throws Exception {
        useNameserver(dns());
        configAdmin.getConfiguration("org.postern.smtp.plugin.dnsbl", "?").update(new java.util.Hashtable<>(Map.of("reject_type", "temp")));
        int port = serverWithZones("bl.test");
        await("the temporary refusal", () -> {
            try {
                return greeting(port).startsWith("450 4.7.1 Listed in bl.test");
            } catch (IOException e) {
                return false;
            }
        });
        configAdmin.getConfiguration("org.postern.smtp.plugin.dnsbl", "?").delete();
        await("the permanent refusal again", () -> {
            try {
                return greeting(port).startsWith("550 ");
            } catch (IOException e) {
                return false;
            }
        });
        assertEquals("550 5.7.1 Listed in bl.test - see https://bl.test/", greeting(port));
    }
}
