package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.composite;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
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
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.Dnsmasq;

/**
 * The dns_whitelist_soft plugin against a real DNS server, through the server's resolver: dnsmasq serving the
 * whitelist wl.test on a loopback port, in which the client 127.0.0.1 is listed, 127.0.0.2 is not, and 127.0.0.3
 * gets dnswl.org's "query refused" code; and a DNS server that never answers. Test hooks after it show what the
 * whitelisthost note does: one honours immunity at RCPT, one reads the note at connect.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DnsWhitelistSoftIT extends PosternTestSupport {
    private static Dnsmasq dns;
    private static int port;

    @Override
    @Configuration
    public Option[] config() {
        return new Option[] {composite(super.config()), dnsResolver(),
            postern("plugin-dns-whitelist-soft")};
    }

    @Before
    public void startDnsAndServer() throws Exception {
        // pax-exam runs @AfterClass after each test method, so dnsmasq starts again (on a new port) when it was stopped
        if (dns == null) {
            dns = Dnsmasq.start("--local=/wl.test/", "--address=/1.0.0.127.wl.test/127.0.0.2",
                    "--address=/3.0.0.127.wl.test/127.0.0.255");
        }
        useNameserver(dns.address(), 2000);
        configItems(Map.of("whitelist_zones", "wl.test"));
        if (port == 0) {
            port = startServer(Map.of());
        }
        awaitPlugin("dns_whitelist_soft");
    }

    @AfterClass
    public static void stopDns() throws InterruptedException {
        if (dns != null) {
            dns.close();
            dns = null;
        }
    }


    /** A plugin after dns_whitelist_soft that accepts the recipients of immune clients only. */
    private void acceptImmuneClientsOnly() {
        hook(HookType.RCPT, 500, ctx -> PluginConventions.isImmune(ctx) ? HookResult.ok() : HookResult.deny("Not whitelisted"));
    }

    private static String rcptReply(String clientAddress) throws IOException {
        try (SmtpClient client = new SmtpClient(port, clientAddress)) {
            client.reply();
            client.command("EHLO client.example");
            client.command("MAIL FROM:<a@example.org>");
            return client.command("RCPT TO:<b@example.org>");
        }
    }

    private static boolean rcptReplyIs(String clientAddress, String prefix) {
        try {
            return rcptReply(clientAddress).startsWith(prefix);
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    public void aListedClientIsImmuneAndOthersAreNot() throws Exception {
        acceptImmuneClientsOnly();
        await("127.0.0.1 to be whitelisted", () -> rcptReplyIs("127.0.0.1", "250"));
        assertTrue(rcptReply("127.0.0.1").startsWith("250 2.1.5"));
        assertEquals("550 5.7.1 Not whitelisted", rcptReply("127.0.0.2"));
        assertEquals("an error code is no listing", "550 5.7.1 Not whitelisted", rcptReply("127.0.0.3"));
    }

    @Test
    public void laterConnectHooksAlreadySeeTheNote() throws Exception {
        hook(HookType.CONNECT, 500, ctx -> ctx.session().notes().get(SharedNotes.WHITELIST_HOST).orElse(false)
                ? HookResult.declined() : HookResult.denySoft("Whitelisted clients only"));
        await("127.0.0.1 to be greeted", () -> {
            try (SmtpClient client = new SmtpClient(port, "127.0.0.1")) {
                return client.reply().startsWith("220");
            } catch (IOException e) {
                return false;
            }
        });
        try (SmtpClient client = new SmtpClient(port, "127.0.0.2")) {
            assertEquals("450 4.7.1 Whitelisted clients only", client.reply());
        }
    }

    @Test
    public void aDnsServerThatNeverAnswersWhitelistsNobodyAfterTheTimeout() throws Exception {
        acceptImmuneClientsOnly();
        await("127.0.0.1 to be whitelisted", () -> rcptReplyIs("127.0.0.1", "250"));
        // bound and never read: queries go unanswered rather than bounce
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            useNameserver("127.0.0.1:" + silent.getLocalPort(), 400);
            await("the silent server to be used", () -> rcptReplyIs("127.0.0.1", "550"));
            long start = System.nanoTime();
            try (SmtpClient client = new SmtpClient(port, "127.0.0.1")) {
                String greeting = client.reply();
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertTrue(greeting, greeting.startsWith("220"));
                assertTrue("greeted after " + millis + " ms, before the DNS timeout", millis >= 350);
                client.command("EHLO client.example");
                client.command("MAIL FROM:<a@example.org>");
                assertEquals("550 5.7.1 Not whitelisted", client.command("RCPT TO:<b@example.org>"));
            }
        }
    }
}
