package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * greylisting's {@code geoip} option with ident/geoip in the distribution, side by side with qpsmtpd 0.94's greylisting.
 * ident/geoip reads a country database written by MaxMind's own writer, as in {@link IdentGeoipIT}: 127.0.0.0/24 is in
 * Canada, 127.0.1.0/24 in France, so a client's country is chosen by the loopback address it connects from. With
 * {@code geoip US,CA} the Canadian client is not greylisted, the French one is. qpsmtpd's ident/geoip reads only the
 * legacy GeoIP format, no longer published; a small plugin there notes the same countries for the same addresses, so
 * that qpsmtpd's own geoip_match decides on them.
 */
public class GreylistingGeoipIT {
    private static final String DEFERRED = "450 This mail is temporarily denied";
    private static final String ACCEPTED = "250 <a@example.org>, sender OK - how exciting to get mail from you!";
    private static final String CANADIAN = "127.0.0.51";
    private static final String FRENCH = "127.0.1.51";
    private static final String COUNTRIES = """
            $tree->insert_network('127.0.0.0/24', { country => { iso_code => 'CA', names => { en => 'Canada' } } });
            $tree->insert_network('127.0.1.0/24', { country => { iso_code => 'FR', names => { en => 'France' } } });
            """;
    /** qpsmtpd's stand-in for ident/geoip: the database's countries, by the client's address. */
    private static final String GEOIP_NOTES = """
            sub hook_connect {
                my ($self) = @_;
                my ($code, $name) = $self->qp->connection->remote_ip =~ /^127\\.0\\.0\\./ ? ('CA', 'Canada') : ('FR', 'France');
                $self->qp->connection->notes(geoip_country => $code);
                $self->qp->connection->notes(geoip_country_name => $name);
                return DECLINED;
            }
            """;

    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess postern;
    private static ServerProcess qpsmtpd;

    @BeforeClass
    public static void startServers() throws Exception {
        Path geoipDb = Files.createTempDirectory("geoip-db");
        GeoipDatabases.write(geoipDb, "GeoLite2-Country", COUNTRIES);
        postern = SERVERS.add(ServerProcess.posternWithPlugins("greylisting-geoip", Map.of(
                        "org.postern.smtp.plugin.greylisting.cfg", "geoip = US,CA",
                        "org.postern.smtp.plugin.ident.geoip.cfg", "db_dir = " + geoipDb),
                        List.of("store-mvstore", "plugin-greylisting", "plugin-ident-geoip"))
                .awaitPlugin("greylisting").awaitPlugin("ident/geoip"));
        Path greylistDb = Files.createTempDirectory("greylisting-db");
        // qpsmtpd runs as its own user
        greylistDb.toFile().setWritable(true, false);
        greylistDb.toFile().setExecutable(true, false);
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpd(List.of("localhost"),
                Map.of("p0f_shim", GreylistingIT.P0F_SHIM, "geoip_notes", GEOIP_NOTES),
                "geoip_notes", "p0f_shim", "greylisting geoip US,CA db_dir " + greylistDb));
    }

    /** One message from {@code client}: the replies, comparable with qpsmtpd's. */
    private static List<String> attempt(ServerProcess server, String client) throws Exception {
        List<String> replies = new ArrayList<>();
        try (SmtpClient smtp = new SmtpClient(server.port, client)) {
            smtp.reply();
            for (String line : List.of("HELO client.example", "MAIL FROM:<a@example.org>", "RCPT TO:<postmaster@localhost>",
                    "DATA", "Subject: greylisting by country\r\n\r\nHello.\r\n.", "QUIT")) {
                replies.add(ClientScript.comparable(smtp.command(line)));
            }
        }
        return replies;
    }

    @Test
    public void aClientFromAListedCountryIsNotGreylistedWhileOneFromAnotherIs() throws Exception {
        List<String> canadian = attempt(postern, CANADIAN);
        assertEquals(ACCEPTED, canadian.get(1));
        assertTrue(canadian.toString(), canadian.get(4).startsWith("250 "));
        assertEquals(canadian.subList(1, 4), attempt(qpsmtpd, CANADIAN).subList(1, 4));

        List<String> french = attempt(postern, FRENCH);
        assertEquals(DEFERRED, french.get(1));
        assertEquals(french.get(1), attempt(qpsmtpd, FRENCH).get(1));

        postern.awaitLogged("[greylisting mail]: skip: no geoip match (France)");
        String log = postern.log();
        assertTrue(log, log.contains("[greylisting mail]: pass: geoip country match (CA, Canada)"));
        assertEquals(log, 1, log.split("fail: initial DENYSOFT, unknown", -1).length - 1);

        // not recorded either: the Canadian client stays a stranger that is never deferred
        assertEquals(ACCEPTED, attempt(postern, CANADIAN).get(1));
        assertFalse(postern.log(), postern.log().contains("pass: white"));
    }
}
