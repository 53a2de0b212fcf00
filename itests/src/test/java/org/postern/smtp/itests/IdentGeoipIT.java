package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
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
 * ident/geoip in the distribution, reading a database written by MaxMind's own writer, MaxMind::DB::Writer::Tree
 * (Debian's libmaxmind-db-writer-perl): 127.0.0.0/8, where the test's clients connect from, is in Toronto, and
 * 192.0.2.0/24, the server's own address for {@code distance}, in Paris, 6007 km away by qpsmtpd's reckoning. With
 * {@code too_far} below that, a client loses a point of karma, which the karma plugin then holds against it. A second
 * server starts without a database, logs where it looked, and reads one dropped in later.
 */
public class IdentGeoipIT {
    private static final String CFG = "org.postern.smtp.plugin.ident.geoip.cfg";
    private static final String LOCATION_LINE = "[ident/geoip connect]: NA, CA, Toronto";
    private static final String RECORDS = """
            $tree->insert_network('127.0.0.0/8', { continent => { code => 'NA' },
                country => { iso_code => 'CA', names => { en => 'Canada' } }, city => { names => { en => 'Toronto' } },
                location => { latitude => 43.6532, longitude => -79.3832 } });
            $tree->insert_network('192.0.2.0/24', { continent => { code => 'EU' },
                country => { iso_code => 'FR', names => { en => 'France' } }, city => { names => { en => 'Paris' } },
                location => { latitude => 48.8566, longitude => 2.3522 } });
            """;

    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess withKarma;
    private static ServerProcess withoutDatabase;
    private static Path dbDir;
    private static Path laterDbDir;

    @BeforeClass
    public static void startServers() throws Exception {
        dbDir = Files.createTempDirectory("geoip-db");
        writeDatabase(dbDir);
        laterDbDir = Files.createTempDirectory("geoip-db-later");
        withKarma = SERVERS.add(ServerProcess.posternWithPlugins("ident-geoip",
                Map.of(CFG, "db_dir = " + dbDir + "\ndistance = 192.0.2.1\ntoo_far = 5000"),
                List.of("plugin-ident-geoip", "store-mvstore", "plugin-karma")).awaitPlugin("ident/geoip").awaitPlugin("karma"));
        withoutDatabase = SERVERS.add(ServerProcess.posternWithPlugins("ident-geoip-later",
                Map.of(CFG, "db_dir = " + laterDbDir), List.of("plugin-ident-geoip")).awaitPlugin("ident/geoip"));
    }

    private static void writeDatabase(Path folder) throws Exception {
        GeoipDatabases.write(folder, "GeoLite2-City", RECORDS);
    }

    /** One session from 127.0.0.1; its replies without enhanced status codes. */
    private static List<String> session(ServerProcess server, String... lines) throws Exception {
        List<String> replies = new ArrayList<>();
        try (SmtpClient smtp = new SmtpClient(server.port, "127.0.0.1")) {
            replies.add(smtp.reply());
            for (String line : lines) {
                replies.add(smtp.command(line));
            }
        }
        return replies.stream().map(reply -> reply.replaceAll("^(\\d{3} )\\d\\.\\d{1,3}\\.\\d{1,3} ", "$1")).toList();
    }


    @Test
    public void aClientIsPlacedAndOneTooFarAwayLosesKarmaThatKarmaHoldsAgainstIt() throws Exception {
        List<String> replies = session(withKarma, "HELO client.example", "MAIL FROM:<a@example.org>",
                "RCPT TO:<postmaster@localhost>", "RCPT TO:<root@localhost>", "QUIT");
        assertTrue(replies.toString(), replies.get(0).startsWith("220 ") && replies.get(3).startsWith("250 "));
        // karma lets a client of no history and no good karma give one recipient, and tells its karma
        assertEquals("550 too many recipients for karma -1 (h: 0)", replies.get(4));
        withKarma.awaitLogged(LOCATION_LINE + ", \t6007 km");
        String log = withKarma.log();
        assertTrue(log, log.contains("[ident/geoip connect]: karma -1 (-1)"));
        assertTrue(log, log.contains("ident/geoip: using " + dbDir.resolve("GeoLite2-City.mmdb") + " (GeoLite2-City, built "));
    }

    @Test
    public void withoutADatabaseTheErrorNamesThePathsTriedAndOneDroppedInLaterIsRead() throws Exception {
        withoutDatabase.awaitLogged("ERROR GeoDatabase - ident/geoip: no database, none of these files exists: ["
                + laterDbDir.resolve("GeoIP2-City.mmdb") + ", " + laterDbDir.resolve("GeoLite2-City.mmdb"));
        assertTrue(session(withoutDatabase, "QUIT").get(0).startsWith("220 "));
        assertTrue(withoutDatabase.log(), !withoutDatabase.log().contains("[ident/geoip connect]"));

        writeDatabase(laterDbDir);
        assertTrue(session(withoutDatabase, "QUIT").get(0).startsWith("220 "));
        withoutDatabase.awaitLogged(LOCATION_LINE + "\n");
        assertTrue(withoutDatabase.log().contains("ident/geoip: using " + laterDbDir.resolve("GeoLite2-City.mmdb")));
    }
}
