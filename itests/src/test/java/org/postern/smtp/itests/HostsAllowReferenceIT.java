package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * hosts_allow side by side with qpsmtpd's plugin of the same name, both reading the same list (qpsmtpd's
 * config/hosts_allow, Postern's config item hosts_allow) and both allowing 5 connections per address (the
 * forkserver's default -m, the plugin's default max_conn_ip). Clients connect from loopback addresses of
 * their own, one address per case, so that no case counts another's connections.
 */
public class HostsAllowReferenceIT {
    private static final List<String> LIST = List.of(
            "127.0.0.2 DENY Known spam only source",
            "127.0.0.3 DENY_DISCONNECT Go away",
            "127.0.0.4 DENY",
            "127.0.0.9 DECLINED",
            "127.0.0.8/29 DENYSOFT Not from your network today");
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startBoth() throws Exception {
        qpsmtpd = ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of("hosts_allow", String.join("\n", LIST) + "\n"),
                "hosts_allow");
        postern = ServerProcess.posternWithPlugins("hosts_allow",
                Map.of("org.postern.smtp.config.cfg", "hosts_allow = " + String.join(", ", LIST)), List.of("plugin-hosts-allow"))
                .awaitPlugin("hosts_allow");
    }

    @AfterClass
    public static void stopBoth() throws Exception {
        if (qpsmtpd != null) {
            qpsmtpd.close();
        }
        if (postern != null) {
            postern.close();
        }
    }

    @Test
    public void listedClientsGetQpsmtpdsReplyInsteadOfTheGreeting() throws Exception {
        for (String client : List.of("127.0.0.2", "127.0.0.3", "127.0.0.10", "127.0.0.15")) {
            assertEquals(client, firstReply(qpsmtpd.port, client), firstReply(postern.port, client));
        }
        assertEquals("550 Known spam only source", firstReply(postern.port, "127.0.0.2"));
        assertEquals("451 Not from your network today", firstReply(postern.port, "127.0.0.10"));
    }

    @Test
    public void anEarlierDeclinedEntryExemptsAnAddressOfALaterNetwork() throws Exception {
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            assertTrue(firstReply(server.port, "127.0.0.9").startsWith("220 "));
        }
    }

    @Test
    public void unlistedClientsAreGreeted() throws Exception {
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            assertTrue(firstReply(server.port, "127.0.0.1").startsWith("220 "));
            assertTrue(firstReply(server.port, "127.0.0.16").startsWith("220 "));
        }
    }

    /**
     * An entry without a message gets the server's own text: qpsmtpd's forkserver says "Sorry, service not
     * available for you", Postern's core its pre_connection default.
     */
    @Test
    public void anEntryWithoutAMessageGetsTheServersText() throws Exception {
        assertEquals("550 Sorry, service not available for you", firstReply(qpsmtpd.port, "127.0.0.4"));
        assertEquals("550 Connection from you denied, bye bye.", firstReply(postern.port, "127.0.0.4"));
    }

    @Test
    public void theSixthConnectionFromOneAddressMustTryAgainLater() throws Exception {
        assertEquals(sixthReply(qpsmtpd.port, "127.0.0.20"), sixthReply(postern.port, "127.0.0.20"));
        assertEquals("451 too many connections from 127.0.0.21, try again later", sixthReply(postern.port, "127.0.0.21"));
    }

    /**
     * Postern counts a connection until it is closed, so a place is free again as soon as a client leaves.
     * qpsmtpd's forkserver counts a child process until it reaps it, once a second, so there a new connection may
     * still be refused just after another one closed: not comparable.
     */
    @Test
    public void aClientThatLeftFreesItsPlace() throws Exception {
        List<SmtpClient> open = openGreeted(postern.port, "127.0.0.22", 5);
        try {
            open.remove(0).close();
            long deadline = System.currentTimeMillis() + 10_000;
            String reply = firstReply(postern.port, "127.0.0.22");
            while (!reply.startsWith("220 ") && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
                reply = firstReply(postern.port, "127.0.0.22");
            }
            assertTrue(reply, reply.startsWith("220 "));
        } finally {
            closeAll(open);
        }
    }

    /** The first reply to a sixth client while five from the same address are connected. */
    private static String sixthReply(int port, String address) throws Exception {
        List<SmtpClient> open = openGreeted(port, address, 5);
        try {
            return firstReply(port, address);
        } finally {
            closeAll(open);
        }
    }

    private static List<SmtpClient> openGreeted(int port, String address, int count) throws Exception {
        List<SmtpClient> open = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            SmtpClient client = new SmtpClient(port, address);
            open.add(client);
            String greeting = client.reply();
            assertTrue(greeting, greeting.startsWith("220 "));
        }
        return open;
    }

    private static void closeAll(List<SmtpClient> clients) throws Exception {
        for (SmtpClient client : clients) {
            client.close();
        }
    }

    /** The first reply a client from this address gets, without the enhanced status code Postern adds. */
    private static String firstReply(int port, String address) throws Exception {
        try (SmtpClient client = new SmtpClient(port, address)) {
            return client.reply().replaceFirst("^(\\d{3}) \\d\\.\\d{1,3}\\.\\d{1,3} ", "$1 ");
        }
    }
}
