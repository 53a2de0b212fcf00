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
 * helo side by side with qpsmtpd's plugin of the same name, one pair of servers per policy, for the tests that
 * need no DNS: badhelo entries (exact and pattern), a forged localhost, a forged or true address literal, a plain
 * IP, and names that are not fully qualified. Each refusal is qpsmtpd's 550 and a closed connection
 * (reject_type disconnect).
 */
public class HeloReferenceIT {
    private static final List<String> BADHELO = List.of("aol.com", "yahoo.com", "^spam[0-9]*\\.");
    private static final List<ServerProcess> SERVERS = new ArrayList<>();
    private static ServerProcess[] lenient;
    private static ServerProcess[] rfc;
    private static ServerProcess[] strict;

    @BeforeClass
    public static void startPairs() throws Exception {
        lenient = pair("lenient");
        rfc = pair("rfc");
        strict = pair("strict");
    }

    /** qpsmtpd and Postern with this policy and the same badhelo list. */
    private static ServerProcess[] pair(String policy) throws Exception {
        ServerProcess qpsmtpd = started(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"),
                Map.of("badhelo", String.join("\n", BADHELO) + "\n"), "helo policy " + policy));
        // a .cfg file reads a backslash as an escape, so each one is doubled
        ServerProcess postern = started(ServerProcess.posternWithPlugins("helo-" + policy, Map.of(
                "org.postern.smtp.config.cfg", "badhelo = " + String.join(", ", BADHELO).replace("\\", "\\\\"),
                "org.postern.smtp.plugin.helo.cfg", "policy = " + policy), List.of("plugin-helo")).awaitPlugin("helo"));
        return new ServerProcess[] {qpsmtpd, postern};
    }

    private static ServerProcess started(ServerProcess server) {
        SERVERS.add(server);
        return server;
    }

    @AfterClass
    public static void stopAll() throws Exception {
        for (ServerProcess server : SERVERS) {
            server.close();
        }
    }

    @Test
    public void lenientRefusesBadheloEntriesAndForgeriesAndPassesTheRest() throws Exception {
        assertBoth(lenient, "127.0.0.1", "yahoo.com", "550 I do not believe you are yahoo.com.");
        assertBoth(lenient, "127.0.0.1", "AOL.com", "550 I do not believe you are AOL.com.");
        assertBoth(lenient, "127.0.0.1", "Spam42.example.org", "550 Your HELO hostname is not allowed");
        assertBoth(lenient, "127.0.0.2", "localhost", "550 You are not localhost");
        assertBoth(lenient, "127.0.0.1", "[10.1.2.3]", "550 Forged IPs not accepted here");
        assertBoth(lenient, "127.0.0.1", "192.0.2.1", "550 Plain IP is invalid HELO hostname (RFC 2821)");
        for (String host : List.of("localhost", "[127.0.0.1]", "nodots", "bad_name.example", "mail.yahoo.com")) {
            assertBoth(lenient, "127.0.0.1", host, "250");
        }
    }

    @Test
    public void rfcAlsoRefusesNamesThatAreNotFullyQualified() throws Exception {
        assertBoth(rfc, "127.0.0.1", "nodots", "550 HELO name is not fully qualified. Read RFC 2821");
        assertBoth(rfc, "127.0.0.1", "bad_name.example", "550 HELO name contains invalid FQDN characters. Read RFC 1035");
        assertBoth(rfc, "127.0.0.1", "yahoo.com", "550 I do not believe you are yahoo.com.");
        assertBoth(rfc, "127.0.0.1", "192.0.2.1", "550 Plain IP is invalid HELO hostname (RFC 2821)");
    }

    @Test
    public void strictRunsTheLenientAndRfcTestsFirst() throws Exception {
        assertBoth(strict, "127.0.0.1", "nodots", "550 HELO name is not fully qualified. Read RFC 2821");
        assertBoth(strict, "127.0.0.1", "[10.1.2.3]", "550 Forged IPs not accepted here");
        assertBoth(strict, "127.0.0.2", "localhost", "550 You are not localhost");
    }

    /**
     * The same reply from both servers, without Postern's enhanced status code; a refusal also closes the
     * connection. {@code "250"} stands for any 250 reply.
     */
    private static void assertBoth(ServerProcess[] pair, String from, String host, String expected) throws Exception {
        for (ServerProcess server : pair) {
            String name = (server == pair[0] ? "qpsmtpd, " : "Postern, ") + "HELO " + host + " from " + from;
            try (SmtpClient client = new SmtpClient(server.port, from)) {
                client.reply();
                String reply = client.command("HELO " + host);
                if (expected.equals("250")) {
                    assertTrue(name + ": " + reply, reply.startsWith("250 "));
                } else {
                    assertEquals(name, expected, reply.replaceFirst("^(\\d{3}) \\d\\.\\d{1,3}\\.\\d{1,3} ", "$1 "));
                    assertTrue(name + " closes the connection", client.closedByServerWithin(5000));
                }
            }
        }
    }
}
