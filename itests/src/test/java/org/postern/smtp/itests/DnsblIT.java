package org.postern.smtp.itests;

import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.composite;
import static org.ops4j.pax.exam.CoreOptions.mavenBundle;

import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.util.Hashtable;
import java.util.Map;
import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;

/**
 * The dnsbl plugin against a real DNS server: dnsmasq on a loopback port serving a blocklist zone in which
 * 127.0.0.1 is listed and another in which it is not; and a server that never answers.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DnsblIT extends PosternTestSupport {
    private Process dnsmasq;

    @Override
    @Configuration
    public Option[] config() {
        return new Option[] {composite(super.config()),
            mavenBundle("io.netty", "netty-codec-dns").versionAsInProject(),
            mavenBundle("io.netty", "netty-resolver-dns").versionAsInProject(),
            postern("plugin-dnsbl")};
    }

    @After
    public void stopDnsmasq() throws InterruptedException {
        if (dnsmasq != null) {
            dnsmasq.destroy();
            dnsmasq.waitFor();
        }
    }

    /** Starts dnsmasq on a port free for both UDP and TCP (it listens on both); tries again if it was taken. */
    private int startDnsmasq() throws Exception {
        String binary = new File("/usr/sbin/dnsmasq").canExecute() ? "/usr/sbin/dnsmasq" : "dnsmasq";
        String failure = "";
        for (int attempt = 0; attempt < 5; attempt++) {
            int port = freeTcpAndUdpPort();
            dnsmasq = new ProcessBuilder(binary, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--pid-file",
                    "--port=" + port, "--listen-address=127.0.0.1", "--bind-interfaces", "--user=" + System.getProperty("user.name"),
                    "--local=/bl.test/", "--local=/clean.test/", "--address=/1.0.0.127.bl.test/127.0.0.2")
                    .redirectErrorStream(true).start();
            if (!dnsmasq.waitFor(300, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                return port;
            }
            failure = new String(dnsmasq.getInputStream().readAllBytes());
        }
        throw new AssertionError("dnsmasq did not start: " + failure);
    }

    private static int freeTcpAndUdpPort() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (java.net.ServerSocket tcp = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                    DatagramSocket udp = new DatagramSocket(tcp.getLocalPort(), java.net.InetAddress.getLoopbackAddress())) {
                return tcp.getLocalPort();
            } catch (java.net.BindException taken) {
                // the UDP side of this port is in use; try another
            }
        }
        throw new IOException("no port free for both TCP and UDP");
    }

    private void configure(String zones, String nameserver, int timeoutMillis) throws IOException {
        configAdmin.getConfiguration("org.postern.smtp.plugin.dnsbl", "?").update(new Hashtable<>(Map.of(
                "zones", zones, "nameservers", nameserver, "timeout.ms", timeoutMillis)));
    }

    private static String rcptReply(int port) throws IOException {
        try (SmtpClient client = SmtpClient.inTransaction(port)) {
            return client.lastReply();
        }
    }

    @Test
    public void aListedClientIsRefusedAndAnUnlistedOneIsNot() throws Exception {
        int dns = startDnsmasq();
        hook(HookType.RCPT, 500, ctx -> HookResult.ok());
        int port = startServer(Map.of());
        configure("bl.test", "127.0.0.1:" + dns, 2000);
        await("the blocklist verdict", () -> {
            try {
                return rcptReply(port).equals("550 5.7.1 Blocked: 127.0.0.1 is listed in bl.test");
            } catch (IOException e) {
                return false;
            }
        });
        configure("clean.test", "127.0.0.1:" + dns, 2000);
        await("a clean verdict", () -> {
            try {
                return rcptReply(port).startsWith("250");
            } catch (IOException e) {
                return false;
            }
        });
    }

    @Test
    public void aDnsServerThatNeverAnswersLetsMailThroughAfterTheTimeout() throws Exception {
        int dns = startDnsmasq();
        int silent;
        try (DatagramSocket socket = new DatagramSocket(0)) {
            silent = socket.getLocalPort();
        }
        hook(HookType.RCPT, 500, ctx -> HookResult.ok());
        int port = startServer(Map.of());
        configure("bl.test", "127.0.0.1:" + dns, 2000);
        await("the plugin to be active", () -> {
            try {
                return rcptReply(port).startsWith("550");
            } catch (IOException e) {
                return false;
            }
        });
        configure("bl.test", "127.0.0.1:" + silent, 400);
        await("the silent server to be used", () -> {
            try {
                return rcptReply(port).startsWith("250");
            } catch (IOException e) {
                return false;
            }
        });
        long start = System.nanoTime();
        String reply = rcptReply(port);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(reply, reply.startsWith("250 2.1.5"));
        assertTrue("answered after " + millis + " ms, before the DNS timeout", millis >= 350);
    }
}
