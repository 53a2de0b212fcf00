package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * relay side by side with qpsmtpd's plugin of the same name, both reading the same relayclients and
 * norelayclients: clients connect from different loopback addresses and ask for a recipient elsewhere (only a
 * relay client gets it) and one here. Once as a plain {@code relay} line, where rcpt_ok lets the relay clients
 * through, and once as {@code relay only 1}, where relay itself accepts them and refuses everyone else.
 */
public class RelayReferenceIT {
    private static final String RELAY_NET = "127.0.0.8/29";
    private static final String RELAY_PARTIAL = "127.0.1.";
    private static final String RELAY_SINGLE = "127.0.0.30/32";
    private static final String NO_RELAY = "127.0.0.12";
    private static final String MORE_RELAY = "127.0.0.3";

    /** Relay clients in both servers, and clients that are not. */
    private static final List<String> RELAY_CLIENTS = List.of("127.0.0.10", "127.0.0.14", "127.0.1.5");
    private static final List<String> OTHER_CLIENTS = List.of("127.0.0.1", "127.0.0.2", NO_RELAY, "127.0.0.16");

    private static ServerProcess qpsmtpd;
    private static ServerProcess qpsmtpdOnly;
    private static ServerProcess postern;
    private static ServerProcess posternOnly;

    @BeforeClass
    public static void startAll() throws Exception {
        Map<String, String> qpsmtpdConfig = Map.of(
                "relayclients", String.join("\n", RELAY_NET, RELAY_PARTIAL, RELAY_SINGLE) + "\n",
                "norelayclients", NO_RELAY + "\n");
        qpsmtpd = ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), qpsmtpdConfig, "relay");
        qpsmtpdOnly = ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), qpsmtpdConfig, "relay only 1");
        String items = "relayclients = " + String.join(", ", RELAY_NET, RELAY_PARTIAL, RELAY_SINGLE) + "\n"
                + "norelayclients = " + NO_RELAY + "\n"
                + "morerelayclients = " + MORE_RELAY;
        postern = ServerProcess.posternWithPlugins("relay", Map.of("org.postern.smtp.config.cfg", items), List.of("plugin-relay"))
                .awaitPlugin("relay");
        posternOnly = ServerProcess.posternWithPlugins("relay-only", Map.of("org.postern.smtp.config.cfg", items,
                "org.postern.smtp.plugin.relay.cfg", "only = 1"), List.of("plugin-relay")).awaitPlugin("relay");
    }

    @AfterClass
    public static void stopAll() throws Exception {
        for (ServerProcess server : new ServerProcess[] {qpsmtpd, qpsmtpdOnly, postern, posternOnly}) {
            if (server != null) {
                server.close();
            }
        }
    }

    @Test
    public void relayClientsMayRelayThroughRcptOkAndOthersMayNot() throws Exception {
        for (String client : RELAY_CLIENTS) {
            assertEquals(client, List.of("250 <x@elsewhere.example>, recipient ok", "250 <postmaster@localhost>, recipient ok"),
                    recipients(qpsmtpd, client));
            assertEquals(client, recipients(qpsmtpd, client), recipients(postern, client));
        }
        for (String client : OTHER_CLIENTS) {
            assertEquals(client, "250 <postmaster@localhost>, recipient ok", recipients(qpsmtpd, client).get(1));
            assertEquals(client, recipients(qpsmtpd, client), recipients(postern, client));
        }
    }

    @Test
    public void relayOnlyRefusesEveryRecipientOfTheOthers() throws Exception {
        for (String client : RELAY_CLIENTS) {
            assertEquals(client, List.of("250 <x@elsewhere.example>, recipient ok", "250 <postmaster@localhost>, recipient ok"),
                    recipients(qpsmtpdOnly, client));
            assertEquals(client, recipients(qpsmtpdOnly, client), recipients(posternOnly, client));
        }
        for (String client : OTHER_CLIENTS) {
            assertEquals(client, List.of("550 relaying denied", "550 relaying denied"), recipients(qpsmtpdOnly, client));
            assertEquals(client, recipients(qpsmtpdOnly, client), recipients(posternOnly, client));
        }
    }

    /**
     * Net::IP compares a client with a net/mask's first and last address by "greater than" and "less than", so
     * qpsmtpd leaves both ends of each block out, and a /32 matches nothing; Postern counts them in.
     */
    @Test
    public void bothEndsOfANetMaskAndASlash32AreRelayClientsInPosternOnly() throws Exception {
        for (String client : List.of("127.0.0.8", "127.0.0.15", "127.0.0.30")) {
            assertEquals(client, "550 relaying denied", recipients(qpsmtpdOnly, client).get(0));
            assertEquals(client, "250 <x@elsewhere.example>, recipient ok", recipients(posternOnly, client).get(0));
        }
    }

    /** qpsmtpd reads morerelayclients only as a CDB file, which its Debian package cannot open without CDB_File. */
    @Test
    public void morerelayclientsIsAnOrdinaryConfigItemInPostern() throws Exception {
        assertEquals("250 <x@elsewhere.example>, recipient ok", recipients(posternOnly, MORE_RELAY).get(0));
        assertEquals("550 relaying denied", recipients(qpsmtpdOnly, MORE_RELAY).get(0));
    }

    /**
     * The replies to a recipient elsewhere and one here, from a client at this address, without the status code:
     * Postern's enhanced status code, and the {@code (#5.7.1)} qpsmtpd's rcpt_ok adds to its text instead.
     */
    private static List<String> recipients(ServerProcess server, String clientAddress) throws Exception {
        try (SmtpClient client = new SmtpClient(server.port, clientAddress)) {
            client.reply();
            client.command("HELO client.example");
            client.command("MAIL FROM:<a@example.org>");
            return List.of(withoutStatus(client.command("RCPT TO:<x@elsewhere.example>")),
                    withoutStatus(client.command("RCPT TO:<postmaster@localhost>")));
        }
    }

    private static String withoutStatus(String reply) {
        return reply.replaceFirst("^(\\d{3}) \\d\\.\\d{1,3}\\.\\d{1,3} ", "$1 ").replaceFirst(" \\(#\\d\\.\\d{1,3}\\.\\d{1,3}\\)$", "");
    }
}
