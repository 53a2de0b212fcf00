package org.postern.smtp.plugin.ident.geoip.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class IdentGeoipTest {
    /** Declared as another plugin would, to read the notes without importing this one. */
    private static final List<NoteKey<?>> NOTES = List.of(NoteKey.of("geoip_country", String.class),
            NoteKey.of("geoip_country_name", String.class), NoteKey.of("geoip_continent", String.class),
            NoteKey.of("geoip_city", String.class), NoteKey.of("geoip_distance", Integer.class));
    private static final String PARIS = "198.51.100.1";

    @TempDir
    Path dbDir;

    private IdentGeoip plugin(Object... keysAndValues) {
        Map<String, Object> config = new HashMap<>(Map.of("db_dir", dbDir.toString()));
        for (int i = 0; i < keysAndValues.length; i += 2) {
            config.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return new IdentGeoip(TestConfig.of(IdentGeoip.Config.class, config));
    }

    private Path cities() throws Exception {
        return TestDatabases.write(dbDir.resolve("GeoLite2-City.mmdb"), "GeoLite2-City", TestDatabases.CITIES);
    }

    /** A connection from {@code client}: what the plugin answered, noted and logged. */
    private record Connect(HookResult result, Map<String, Object> notes, Optional<Integer> karma, List<String> logged) {
    }

    private static Connect connect(IdentGeoip plugin, String client) {
        TestContext ctx = new TestContext();
        ctx.session().remote(client, 40000);
        HookResult result = HookResults.settled(plugin.onConnect(ctx));
        Map<String, Object> notes = new HashMap<>();
        NOTES.forEach(key -> ctx.session().notes().get(key).ifPresent(value -> notes.put(key.name(), value)));
        return new Connect(result, notes, ctx.session().notes().get(SharedNotes.KARMA), ctx.logged());
    }

    private static Map<String, Object> notes(String country, String name, String continent, String city, Integer km) {
        Map<String, Object> notes = new HashMap<>(Map.of("geoip_country", country, "geoip_country_name", name,
                "geoip_continent", continent));
        Optional.ofNullable(city).ifPresent(value -> notes.put("geoip_city", value));
        Optional.ofNullable(km).ifPresent(value -> notes.put("geoip_distance", value));
        return notes;
    }

    @Test
    void aClientIsNotedWithItsPlaceAndDistanceFromTheServerAndLoggedAsQpsmtpdDoes() throws Exception {
        cities();
        Connect connect = connect(plugin("distance", PARIS), "192.0.2.1");
        assertEquals(ReturnCode.DECLINED, connect.result().code());
        assertEquals(notes("CA", "Canada", "NA", "Toronto", 6007), connect.notes());
        assertEquals(List.of("INFO NA, CA, Toronto, \t6007 km"), connect.logged());
        assertEquals(Optional.empty(), connect.karma());
    }

    @Test
    void anIpv6ClientIsLookedUpToo() throws Exception {
        cities();
        Connect connect = connect(plugin("distance", PARIS), "2001:db8::25");
        assertEquals(notes("AU", "Australia", "OC", "Sydney", 16979), connect.notes());
        assertEquals(List.of("INFO OC, AU, Sydney, \t16979 km"), connect.logged());
    }

    @Test
    void aClientFartherThanTooFarLosesAPointOfKarmaAndOneAtTheLimitDoesNot() throws Exception {
        cities();
        Connect far = connect(plugin("distance", PARIS, "too_far", 6006), "192.0.2.1");
        assertEquals(Optional.of(-1), far.karma());
        assertEquals(List.of("INFO karma -1 (-1)", "INFO NA, CA, Toronto, \t6007 km"), far.logged());
        assertEquals(Optional.empty(), connect(plugin("distance", PARIS, "too_far", 6007), "192.0.2.1").karma());
    }

    @Test
    void withoutDistanceThePlaceIsNotedWithoutIt() throws Exception {
        cities();
        Connect connect = connect(plugin("too_far", 100), "192.0.2.1");
        assertEquals(notes("CA", "Canada", "NA", "Toronto", null), connect.notes());
        assertEquals(List.of("INFO NA, CA, Toronto"), connect.logged());
        assertEquals(Optional.empty(), connect.karma());
    }

    @Test
    void aServerAddressWithoutCoordinatesOrRecordOrThatIsNoAddressGivesNoDistance() throws Exception {
        cities();
        for (String distance : List.of("203.0.113.1", "10.1.2.3", "mail.example.org", "999.1.1.1", "1:2")) {
            Connect connect = connect(plugin("distance", distance, "too_far", 1), "192.0.2.1");
            assertEquals(notes("CA", "Canada", "NA", "Toronto", null), connect.notes(), distance);
            assertEquals(List.of("INFO NA, CA, Toronto"), connect.logged(), distance);
        }
    }

    @Test
    void aClientWithoutCoordinatesIsNotedWithoutDistanceAndThatIsLogged() throws Exception {
        cities();
        Connect connect = connect(plugin("distance", PARIS), "203.0.113.9");
        assertEquals(notes("JP", "Japan", "AS", null, null), connect.notes());
        assertEquals(List.of("NOTICE could not get sender lat/lon", "INFO AS, JP"), connect.logged());
    }

    @Test
    void theServerItselfIsNoDistanceAwayWhichIsNotedButNotLogged() throws Exception {
        cities();
        Connect connect = connect(plugin("distance", PARIS), "198.51.100.7");
        assertEquals(notes("FR", "France", "EU", "Paris", 0), connect.notes());
        assertEquals(List.of("INFO EU, FR, Paris"), connect.logged());
    }

    @Test
    void anAddressWithoutRecordOrWithoutCountryHasNoResults() throws Exception {
        cities();
        IdentGeoip plugin = plugin("distance", PARIS);
        for (String client : List.of("127.0.0.1", "10.0.0.1", "::1", "198.18.0.1")) {
            Connect connect = connect(plugin, client);
            assertEquals(ReturnCode.DECLINED, connect.result().code());
            assertEquals(Map.of(), connect.notes(), client);
            assertEquals(List.of("INFO skip, no results"), connect.logged(), client);
        }
    }

    @Test
    void withoutADatabaseTheHookDeclinesUntilOneAppears() throws Exception {
        IdentGeoip plugin = plugin("distance", PARIS);
        Connect connect = connect(plugin, "192.0.2.1");
        assertEquals(ReturnCode.DECLINED, connect.result().code());
        assertEquals(Map.of(), connect.notes());
        assertEquals(List.of(), connect.logged());
        cities();
        assertEquals(List.of("INFO NA, CA, Toronto, \t6007 km"), connect(plugin, "192.0.2.1").logged());
    }

    @Test
    void aCountryDatabaseServesUntilACityDatabaseAppearsAndAReplacedDatabaseIsReadAnew() throws Exception {
        TestDatabases.write(dbDir.resolve("GeoLite2-Country.mmdb"), "GeoLite2-Country", TestDatabases.COUNTRIES);
        IdentGeoip plugin = plugin("distance", PARIS);
        Connect country = connect(plugin, "192.0.2.1");
        assertEquals(notes("US", "United States", "NA", null, null), country.notes());
        assertEquals(List.of("INFO NA, US"), country.logged());

        cities();
        assertEquals(List.of("INFO NA, CA, Toronto, \t6007 km"), connect(plugin, "192.0.2.1").logged());

        // an update renamed over the file in use, as geoipupdate does it
        TestDatabases.write(dbDir.resolve("GeoLite2-City.mmdb"), "GeoLite2-City", TestDatabases.COUNTRIES);
        assertEquals(List.of("INFO NA, US"), connect(plugin, "192.0.2.1").logged());
    }

    @Test
    void dbIpsLiteDatabasesAreReadByTheirNames() throws Exception {
        TestDatabases.write(dbDir.resolve("dbip-city-lite.mmdb"), "DBIP-City-Lite", TestDatabases.CITIES);
        assertEquals(List.of("INFO NA, CA, Toronto, \t6007 km"), connect(plugin("distance", PARIS), "192.0.2.1").logged());
    }

    @Test
    void anUnreadableFileLeavesTheDatabaseInUseUntilAGoodOneReplacesIt() throws Exception {
        Path city = dbDir.resolve("GeoLite2-City.mmdb");
        Files.writeString(city, "not a database");
        IdentGeoip plugin = plugin("distance", PARIS);
        assertEquals(List.of(), connect(plugin, "192.0.2.1").logged());

        cities();
        assertEquals(List.of("INFO NA, CA, Toronto, \t6007 km"), connect(plugin, "192.0.2.1").logged());

        Path broken = Files.writeString(dbDir.resolve("broken"), "still not a database");
        Files.move(broken, city, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertEquals(List.of("INFO NA, CA, Toronto, \t6007 km"), connect(plugin, "192.0.2.1").logged());
    }
}
