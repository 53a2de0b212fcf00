package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.postern.smtp.testkit.Dnsmasq;

/**
 * The health bundle in the standalone server, as a load balancer polls it: {@code GET /health} on the HTTP service
 * is 200 while the listener is bound and the spool has room, 503 naming the daemon while a plugin's daemon does not
 * answer, and for a WARN what {@code http.status.warn} says. The resolver asks a dnsmasq of the test's own, so that
 * its peer check answers wherever the test runs.
 */
public class HealthIT {
    private static final String HEALTH_CFG = "org.postern.health.cfg";
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Dnsmasq dns;

    @BeforeClass
    public static void startDns() throws Exception {
        dns = Dnsmasq.start("--host-record=localhost,127.0.0.1");
    }

    @AfterClass
    public static void stopDns() throws InterruptedException {
        if (dns != null) {
            dns.close();
        }
    }

    private static ServerProcess postern(String name, Map<String, String> etcLines) throws Exception {
        Map<String, String> lines = new java.util.HashMap<>(etcLines);
        lines.put("org.postern.dns.cfg", "nameservers = " + dns.address());
        return SERVERS.add(ServerProcess.posternWithPlugins("health-" + name, lines, List.of()));
    }

    @Test
    public void okWithTheListenerAndTheSpoolThenUnavailableNamingAPeerThatDoesNotAnswer() throws Exception {
        ServerProcess postern = postern("peer", Map.of());
        Health.Page page = Health.await(postern, "the listeners, the spool and DNS",
                answer -> answer.lines("OK Postern ") == 3 && answer.body().contains("Postern peer: DNS"));
        assertEquals(page.body(), 200, page.status());
        assertTrue(page.body(), page.body().contains("OK Postern listeners: default listening on 127.0.0.1:" + postern.port + "\n"));
        assertTrue(page.body(), Pattern.compile("(?m)^OK Postern spool: spool folder \\S+: \\d+ MB free$").matcher(page.body()).find());
        assertTrue(page.body(), page.body().contains("OK Postern peer: DNS " + dns.address() + ": DNS " + dns.address()
                + " answered: localhost. A 127.0.0.1\n"));

        int closedPort = ServerProcess.freePort();
        String spamd = "spamd 127.0.0.1:" + closedPort;
        Files.writeString(postern.base.resolve("etc/org.postern.smtp.plugin.spamassassin.cfg"), "spamd_socket = 127.0.0.1:" + closedPort + "\n");
        Path deployed = postern.base.resolve("deploy/plugin-spamassassin.jar");
        Files.copy(Path.of(System.getProperty("postern.bundles"), "plugin-spamassassin", "target",
                "plugin-spamassassin-" + System.getProperty("postern.version") + ".jar"), deployed);
        page = Health.await(postern, "spamd", answer -> answer.body().contains("Postern peer: " + spamd));
        assertEquals(page.body(), 503, page.status());
        assertEquals(page.body(), 1, page.lines("CRITICAL Postern peer: " + spamd + ": " + spamd + " did not answer: Connection refused"));
        assertEquals(page.body(), 3, page.lines("OK "));

        Files.delete(deployed);
        page = Health.await(postern, "no spamd once the plugin is gone", answer -> !answer.body().contains("spamd"));
        assertEquals(page.body(), 200, page.status());
    }

    @Test
    public void aWarningKeepsTheServerInThePoolUnlessHttpStatusWarnSaysOtherwise() throws Exception {
        String tooMuch = "spool.min.free.mb = " + Long.MAX_VALUE / (1024 * 1024);
        ServerProcess postern = postern("warn", Map.of(HEALTH_CFG, tooMuch));
        Health.Page page = Health.await(postern, "the spool's warning", answer -> answer.lines("WARN Postern spool: ") == 1);
        assertEquals(page.body(), 200, page.status());
        assertTrue(page.body(), page.body().contains(" MB free, below spool.min.free.mb "));

        Files.writeString(postern.base.resolve("etc/" + HEALTH_CFG), tooMuch + "\nhttp.status.warn = 503\n");
        page = Health.await(postern, "503 for the warning", answer -> answer.status() == 503 && answer.lines("WARN Postern spool: ") == 1);
        assertEquals(page.body(), 0, page.lines("CRITICAL "));
    }
}
