package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * Postern behind a real HAProxy (Debian's haproxy, in TCP mode), which sends the PROXY protocol header: version 1 to
 * one listener, version 2 to the same listener through another frontend, and version 2 to an implicit-TLS listener.
 * Clients connect to HAProxy from loopback addresses of their own, which Postern must see instead of HAProxy's.
 */
public class ProxyProtocolIT {
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess postern;
    private static Process haproxy;
    private static Path work;
    private static int proxied;
    private static int version1;
    private static int version2;
    private static int version2Tls;

    @BeforeClass
    public static void startPosternBehindHaproxy() throws Exception {
        proxied = ServerProcess.freePort();
        int proxiedTls = ServerProcess.freePort();
        postern = SERVERS.add(ServerProcess.posternWithPlugins("proxy", Map.of(ServerProcess.SERVER_CFG, String.join("\n",
                "listen = mx=127.0.0.1:" + ServerProcess.PORT + ", proxied=127.0.0.1:" + proxied + ", proxiedtls=127.0.0.1:" + proxiedTls,
                "listener.proxied.proxy.protocol = true",
                "listener.proxiedtls.proxy.protocol = true",
                "listener.proxiedtls.tls.implicit = true",
                "tls.self.signed = true")), List.of()));
        version1 = ServerProcess.freePort();
        version2 = ServerProcess.freePort();
        version2Tls = ServerProcess.freePort();
        work = Files.createTempDirectory("haproxy");
        Path configuration = Files.writeString(work.resolve("haproxy.cfg"), String.join("\n",
                "defaults",
                "  mode tcp",
                "  timeout connect 5s",
                "  timeout client 30s",
                "  timeout server 30s",
                frontend("v1", version1, proxied, "send-proxy"),
                frontend("v2", version2, proxied, "send-proxy-v2"),
                frontend("v2tls", version2Tls, proxiedTls, "send-proxy-v2"), ""));
        haproxy = new ProcessBuilder("/usr/sbin/haproxy", "-db", "-f", configuration.toString()).redirectErrorStream(true)
                .redirectOutput(work.resolve("haproxy.log").toFile()).start();
        for (int port : List.of(version1, version2, version2Tls)) {
            awaitListening(port);
        }
    }

    private static String frontend(String name, int port, int backendPort, String proxyOption) {
        return String.join("\n", "frontend " + name, "  bind 127.0.0.1:" + port, "  default_backend " + name + "_postern",
                "backend " + name + "_postern", "  server postern 127.0.0.1:" + backendPort + " " + proxyOption);
    }

    private static void awaitListening(int port) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (true) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                return;
            } catch (java.io.IOException notYet) {
                if (!haproxy.isAlive() || System.currentTimeMillis() > deadline) {
                    throw new AssertionError("haproxy is not listening on " + port + ":\n" + Files.readString(work.resolve("haproxy.log")));
                }
                Thread.sleep(50);
            }
        }
    }

    @AfterClass
    public static void stopHaproxy() throws Exception {
        if (haproxy != null) {
            haproxy.destroy();
            haproxy.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    public void aVersionOneHeaderShowsTheClientsAddressNotTheProxys() throws Exception {
        try (SmtpClient client = new SmtpClient(version1, "127.0.0.5")) {
            String greeting = client.reply();
            assertTrue(greeting, greeting.startsWith("220 "));
            String ehlo = client.command("EHLO client.example");
            assertTrue(ehlo, ehlo.matches("250-localhost Hi \\S+ \\[127\\.0\\.0\\.5\\]\n(?s).*"));
        }
    }

    @Test
    public void swaksThroughAVersionTwoHeaderDeliversAMessageReceivedFromItsAddress() throws Exception {
        String output = DistributionIT.run(0, "swaks", "--server", "127.0.0.1:" + version2, "--local-interface", "127.0.0.6",
                "--from", "a@example.org", "--to", "b@localhost", "--header", "Subject: proxied v2");
        assertTrue(output, output.contains("<-  250 2.0.0 Queued as "));
        String delivered = postern.deliveredWithSubject("data/maildir", "proxied v2");
        assertTrue(delivered, delivered.matches("(?s).*\nReceived: from \\S+ \\(HELO \\S+\\) \\(127\\.0\\.0\\.6\\).*"));
    }

    @Test
    public void implicitTlsFollowsTheHeaderOnATlsListener() throws Exception {
        String output = DistributionIT.run(0, "swaks", "--server", "127.0.0.1:" + version2Tls, "--tls-on-connect",
                "--local-interface", "127.0.0.7", "--from", "a@example.org", "--to", "b@localhost", "--header", "Subject: proxied tls");
        assertTrue(output, output.contains("<~  250 2.0.0 Queued as "));
        String delivered = postern.deliveredWithSubject("data/maildir", "proxied tls");
        assertTrue(delivered, delivered.matches("(?s).*\nReceived: from \\S+ \\(HELO \\S+\\) \\(127\\.0\\.0\\.7\\)\n\t.* encrypted\\) ESMTPS id .*"));
    }

    @Test
    public void aClientReachingTheProxiedListenerDirectlyIsClosedWithoutAGreeting() throws Exception {
        try (SmtpClient client = new SmtpClient(proxied)) {
            client.send("EHLO client.example\r\n");
            assertTrue(client.closedByServerWithin(5000));
            assertEquals(null, client.lastReply());
        }
        // the decoder closes the connection before the handler logs why
        postern.awaitLogged("not a PROXY protocol header (unknown identifier: EHLO)");
        assertFalse(postern.log(), postern.log().contains("Exception"));
    }
}
