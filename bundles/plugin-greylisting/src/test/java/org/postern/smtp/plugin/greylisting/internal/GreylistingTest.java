package org.postern.smtp.plugin.greylisting.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.store.StateStore;
import org.postern.smtp.testkit.TestClock;
import org.postern.smtp.testkit.TestStateStore;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class GreylistingTest {
    private static final Instant START = Instant.parse("2024-06-01T12:00:00Z");
    /** 192.0.2.1, the test session's client, as qpsmtpd's key writes it. */
    private static final String CLIENT_KEY = "greylisting:3221225985";
    private static final Duration BLACK = Duration.ofMinutes(50);
    private static final Duration GREY = Duration.ofMinutes(200);
    private static final Duration WHITE = Duration.ofDays(36);

    private final TestClock clock = new TestClock(START);
    private final TestStateStore store = new TestStateStore(clock);

    private Greylisting plugin(Map<String, ?> options) {
        return new Greylisting(TestConfig.of(Greylisting.Config.class, options), new HashMap<>(options), store, clock);
    }

    private static HookResult mail(Greylisting plugin, TestContext ctx, String sender) {
        return HookResults.settled(plugin.onMail(ctx.mail(sender)));
    }

    private static HookResult mail(Greylisting plugin) {
        return mail(plugin, new TestContext(), "<a@example.org>");
    }

    private static void assertDeferred(HookResult result) {
        assertEquals(ReturnCode.DENYSOFT, result.code());
        assertEquals(List.of("This mail is temporarily denied"), result.message());
    }

    private static void assertPassed(HookResult result) {
        assertEquals(ReturnCode.DECLINED, result.code(), result.toString());
    }

    @Test
    void aFirstAttemptIsDeferredAndRecordedUntilTheGreyTimeout() {
        TestContext ctx = new TestContext();
        assertDeferred(mail(plugin(Map.of()), ctx, "<a@example.org>"));
        assertEquals(List.of("WARN fail: initial DENYSOFT, unknown"), ctx.logged());
        assertEquals(START.getEpochSecond() + ":1:0:0", store.values().get(CLIENT_KEY));
        assertEquals(START.plus(GREY), store.expiry(CLIENT_KEY).orElse(null));
    }

    @Test
    void aRetryWithinTheBlackTimeoutIsDeferredWithoutMovingItsStart() {
        Greylisting plugin = plugin(Map.of());
        mail(plugin);
        clock.advance(BLACK.minusSeconds(1));
        TestContext retry = new TestContext();
        assertDeferred(mail(plugin, retry, "<a@example.org>"));
        assertEquals(List.of("WARN fail: black DENYSOFT - 1 deferred connections"), retry.logged());
        assertEquals(START.getEpochSecond() + ":1:1:0", store.values().get(CLIENT_KEY));
        assertEquals(START.plus(GREY), store.expiry(CLIENT_KEY).orElse(null));
    }

    @Test
    void aRetryAfterTheBlackTimeoutIsAcceptedAndWhitelistsTheTriplet() {
        Greylisting plugin = plugin(Map.of());
        mail(plugin);
        clock.advance(BLACK);
        TestContext retry = new TestContext();
        assertPassed(mail(plugin, retry, "<a@example.org>"));
        assertEquals(List.of("WARN pass: updated grey->white"), retry.logged());
        assertEquals(START.plus(BLACK).plus(WHITE), store.expiry(CLIENT_KEY).orElse(null));

        clock.advance(Duration.ofDays(30));
        TestContext later = new TestContext();
        assertPassed(mail(plugin, later, "<other@example.net>"));
        assertEquals(List.of("INFO pass: white, 2 deliveries"), later.logged());
        assertEquals(clock.instant().plus(WHITE), store.expiry(CLIENT_KEY).orElse(null));
    }

    @Test
    void withoutARetryBeforeTheGreyTimeoutTheTripletIsUnknownAgain() {
        Greylisting plugin = plugin(Map.of());
        mail(plugin);
        clock.advance(GREY);
        TestContext late = new TestContext();
        assertDeferred(mail(plugin, late, "<a@example.org>"));
        assertEquals(List.of("WARN fail: initial DENYSOFT, unknown"), late.logged());
    }

    @Test
    void aWhitelistedTripletUnusedForTheWhiteTimeoutIsDeferredAgain() {
        Greylisting plugin = plugin(Map.of());
        mail(plugin);
        clock.advance(BLACK);
        mail(plugin);
        clock.advance(WHITE);
        assertDeferred(mail(plugin));
    }

    @Test
    void aRecordTheStoreStillHoldsPastItsPeriodsStartsOver() {
        Greylisting.Timeouts timeouts = new Greylisting.Timeouts(3000, 12000, 3110400);
        Verdict grey = Verdict.of(Optional.of(new Triplet(1000, 1, 2, 0)), 1000 + 12000, timeouts);
        assertEquals(new Verdict(true, new Triplet(13000, 1, 0, 0), Duration.ofSeconds(12000),
                org.postern.smtp.api.LogLevel.WARN, "fail: initial DENYSOFT, timed out (grey)"), grey);
        Verdict white = Verdict.of(Optional.of(new Triplet(1000, 1, 0, 5)), 1000 + 3110400, timeouts);
        assertTrue(white.defer());
        assertEquals("fail: initial DENYSOFT, timed out (white)", white.log());
    }

    @Test
    void anUnreadableRecordCountsAsUnknown() {
        store.set(CLIENT_KEY, "not a record", WHITE);
        assertDeferred(mail(plugin(Map.of())));
        assertEquals(START.getEpochSecond() + ":1:0:0", store.values().get(CLIENT_KEY));
    }

    @Test
    void theSenderCanBePartOfTheTriplet() {
        Greylisting plugin = plugin(Map.of("sender", "1"));
        mail(plugin);
        clock.advance(BLACK);
        assertPassed(mail(plugin));
        assertDeferred(mail(plugin, new TestContext(), "<b@example.org>"));
        assertEquals(START.getEpochSecond() + BLACK.toSeconds() + ":1:0:0",
                store.values().get(CLIENT_KEY + ":b@example.org"));
    }

    @Test
    void withoutTheAddressOnlyTheSenderCounts() {
        Greylisting plugin = plugin(Map.of("remote_ip", "0", "sender", "1"));
        mail(plugin);
        TestContext elsewhere = new TestContext();
        elsewhere.session().remote("198.51.100.7", 25);
        assertDeferred(mail(plugin, elsewhere, "<a@example.org>"));
        assertEquals(List.of("WARN fail: black DENYSOFT - 1 deferred connections"), elsewhere.logged());
        assertEquals(Map.of("greylisting:a@example.org", START.getEpochSecond() + ":1:1:0"), store.values());
    }

    @Test
    void anIpv6ClientIsKeyedByItsNumberAsInQpsmtpd() {
        TestContext ctx = new TestContext();
        ctx.session().remote("2001:db8::1", 25);
        mail(plugin(Map.of()), ctx, "<a@example.org>");
        assertEquals(List.of("greylisting:42540766411282592856903984951653826561"), List.copyOf(store.values().keySet()));
    }

    @Test
    void withTheRecipientInTheTripletTheCheckMovesToRcpt() {
        Greylisting plugin = plugin(Map.of("recipient", "1"));
        TestContext ctx = new TestContext();
        ctx.transaction().sender("<a@example.org>");
        assertPassed(mail(plugin, ctx, "<a@example.org>"));
        assertTrue(store.values().isEmpty());
        assertDeferred(HookResults.settled(plugin.onRcpt(ctx.rcpt("<user@localhost>"))));
        assertEquals(List.of(CLIENT_KEY + ":user@localhost"), List.copyOf(store.values().keySet()));
    }

    @Test
    void perRecipientChecksAtRcptWithoutTheRecipientInTheKey() {
        Greylisting plugin = plugin(Map.of("per_recipient", "1"));
        TestContext ctx = new TestContext();
        ctx.transaction().sender("<a@example.org>");
        assertPassed(mail(plugin, ctx, "<a@example.org>"));
        assertDeferred(HookResults.settled(plugin.onRcpt(ctx.rcpt("<user@localhost>"))));
        assertEquals(List.of(CLIENT_KEY), List.copyOf(store.values().keySet()));
    }

    @Test
    void aBounceIsDeferredAtDataSoThatAnAddressProbeGetsThrough() {
        Greylisting plugin = plugin(Map.of("recipient", "1"));
        TestContext ctx = new TestContext();
        ctx.transaction().sender("<>").recipient("<user@localhost>");
        assertPassed(HookResults.settled(plugin.onRcpt(ctx.rcpt("<user@localhost>"))));
        assertDeferred(plugin.onData(ctx));
    }

    @Test
    void denyLateDefersAtDataUnlessEveryRecipientIsWhitelisted() {
        Greylisting plugin = plugin(Map.of("deny_late", "1"));
        TestContext ctx = new TestContext();
        assertPassed(mail(plugin, ctx, "<a@example.org>"));
        ctx.transaction().recipient("<one@localhost>").recipient("<two@localhost>");
        ctx.transaction().notes().put(SharedNotes.WHITELIST_RCPT, 1);
        assertDeferred(plugin.onData(ctx));

        ctx.transaction().notes().put(SharedNotes.WHITELIST_RCPT, 2);
        assertPassed(plugin.onData(ctx));
        assertTrue(ctx.logged().contains("WARN skip: all recipients whitelisted"), ctx.logged().toString());
    }

    @Test
    void withoutADeferralDataPasses() {
        TestContext ctx = new TestContext();
        ctx.transaction().recipient("<one@localhost>");
        assertPassed(plugin(Map.of()).onData(ctx));
    }

    @Test
    void anImmuneClientIsNeitherDeferredNorRecorded() {
        TestContext ctx = new TestContext();
        ctx.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        assertPassed(mail(plugin(Map.of()), ctx, "<a@example.org>"));
        assertEquals(List.of("INFO skip, relay client"), ctx.logged());
        assertTrue(store.values().isEmpty());
    }

    @Test
    void aWhitelistedSenderIsNotDeferred() {
        TestContext ctx = new TestContext();
        ctx.transaction().notes().put(SharedNotes.WHITELIST_SENDER, true);
        assertPassed(mail(plugin(Map.of()), ctx, "<a@example.org>"));
        assertTrue(store.values().isEmpty());
    }

    @Test
    void rejectZeroRecordsButDefersNothing() {
        Greylisting plugin = plugin(Map.of("reject", "0"));
        TestContext ctx = new TestContext();
        assertPassed(mail(plugin, ctx, "<a@example.org>"));
        assertEquals(List.of("WARN fail: initial DENYSOFT, unknown"), ctx.logged());
        assertEquals(START.getEpochSecond() + ":1:0:0", store.values().get(CLIENT_KEY));
    }

    @Test
    void theDeprecatedModeSetsRejectUnlessRejectIsGiven() {
        assertPassed(mail(plugin(Map.of("mode", "testonly"))));
        store.clear();
        assertPassed(mail(plugin(Map.of("mode", "off"))));
        store.clear();
        assertDeferred(mail(plugin(Map.of("mode", "denysoft"))));
        store.clear();
        assertDeferred(mail(plugin(Map.of("mode", "testonly", "reject", "1"))));
    }

    @Test
    void aStoreFailurePassesByDefault() {
        store.failing(true);
        TestContext ctx = new TestContext();
        assertPassed(mail(plugin(Map.of()), ctx, "<a@example.org>"));
        assertEquals(List.of("ERROR state store failed, passed: java.io.IOException: store down"), ctx.logged());
    }

    @Test
    void aStoreFailureDefersWhenConfiguredTo() {
        store.failing(true);
        TestContext ctx = new TestContext();
        assertDeferred(mail(plugin(Map.of("store_failure", "defer")), ctx, "<a@example.org>"));
        assertEquals(List.of("ERROR state store failed, deferred: java.io.IOException: store down"), ctx.logged());
    }

    @Test
    void unusableOptionsFallBackToTheDefaults() {
        assertDeferred(mail(plugin(Map.of("remote_ip", "0"))));
        assertEquals(List.of(CLIENT_KEY), List.copyOf(store.values().keySet()));

        Greylisting swapped = plugin(Map.of("black_timeout", 600, "grey_timeout", 300));
        clock.advance(Duration.ofMinutes(20));
        assertDeferred(mail(swapped));
        assertTrue(store.values().get(CLIENT_KEY).endsWith(":1:1:0"), "still black at 20 minutes, as with 50");
    }

    @Test
    void anUnknownStoreFailureBehaviourPasses() {
        store.failing(true);
        assertPassed(mail(plugin(Map.of("store_failure", "sometimes"))));
    }

    /** ident/p0f's note, by a key of its own as another bundle makes it: equal to greylisting's by name and type. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static final NoteKey<Map<String, Object>> P0F_NOTE = (NoteKey) NoteKey.of("p0f", Map.class);
    private static final NoteKey<String> GEOIP_COUNTRY = NoteKey.of("geoip_country", String.class);
    private static final NoteKey<String> GEOIP_COUNTRY_NAME = NoteKey.of("geoip_country_name", String.class);

    private static TestContext fingerprinted(Map<String, Object> p0f) {
        TestContext ctx = new TestContext();
        ctx.session().notes().put(P0F_NOTE, p0f);
        return ctx;
    }

    private static TestContext locatedIn(String country, String name) {
        TestContext ctx = new TestContext();
        ctx.session().notes().put(GEOIP_COUNTRY, country);
        ctx.session().notes().put(GEOIP_COUNTRY_NAME, name);
        return ctx;
    }

    @Test
    void withP0fAClientWhoseFingerprintMatchesIsGreylisted() {
        TestContext windows = fingerprinted(Map.of("genre", "Windows 7 or 8", "link", "DSL", "distance", 12L));
        assertDeferred(mail(plugin(Map.of("p0f", "genre,windows")), windows, "<a@example.org>"));
        assertEquals(List.of("DEBUG p0f genre match (windows)", "WARN fail: initial DENYSOFT, unknown"), windows.logged());
    }

    @Test
    void withP0fAClientNoPairMatchesIsNeitherDeferredNorRecorded() {
        TestContext linux = fingerprinted(Map.of("genre", "Linux 3.11 and newer", "distance", 0L));
        assertPassed(mail(plugin(Map.of("p0f", "genre,windows")), linux, "<a@example.org>"));
        assertEquals(List.of("INFO skip: no p0f match"), linux.logged());
        assertTrue(store.values().isEmpty());
    }

    @Test
    void withP0fAClientWithoutAFingerprintIsNotGreylisted() {
        TestContext unknown = new TestContext();
        assertPassed(mail(plugin(Map.of("p0f", "genre,windows")), unknown, "<a@example.org>"));
        assertEquals(List.of("ERROR p0f info missing"), unknown.logged());
        assertTrue(store.values().isEmpty());
    }

    @Test
    void oneMatchingPairOfTheOptionIsEnough() {
        // qpsmtpd's example "windows computers on DSL links more than 3 network hops away": its code takes any one pair
        Greylisting plugin = plugin(Map.of("p0f", "genre,windows,link,dsl,distance,3"));
        TestContext far = fingerprinted(Map.of("genre", "Linux 2.2.x-3.x", "link", "Ethernet or modem", "distance", 4L));
        assertDeferred(mail(plugin, far, "<a@example.org>"));
        assertTrue(far.logged().contains("DEBUG p0f distance match (3)"), far.logged().toString());
        TestContext near = fingerprinted(Map.of("genre", "Linux 2.2.x-3.x", "link", "Ethernet or modem", "distance", 3L));
        assertPassed(mail(plugin, near, "<a@example.org>"));
        assertEquals(List.of("INFO skip: no p0f match"), near.logged());
        TestContext dsl = fingerprinted(Map.of("genre", "Linux 2.2.x-3.x", "link", "DSL", "distance", 0L));
        assertDeferred(mail(plugin, dsl, "<a@example.org>"));
        assertTrue(dsl.logged().contains("DEBUG p0f link match (dsl)"), dsl.logged().toString());
    }

    /** qpsmtpd's own tests of p0f_match (t/plugin_tests/greylisting), each pair greylisting or not. */
    @Test
    void eachKeyMatchesAsInQpsmtpdsTests() {
        record Case(String option, Map<String, Object> fingerprint, boolean greylisted) {
        }
        List<Case> cases = List.of(
                new Case("genre,Linux", Map.of("genre", "windows", "link", "dsl"), false),
                new Case("genre,Windows", Map.of("genre", "windows", "link", "dsl"), true),
                new Case("genre,Lindows", Map.of("genre", "windows"), false),
                new Case("distance,8", Map.of("distance", 9L), true),
                new Case("distance,8", Map.of("distance", 7L), false),
                new Case("link,dsl", Map.of("link", "DSL"), true),
                new Case("link,dsl", Map.of("link", "Ethernet"), false),
                new Case("uptime,100", Map.of("uptime", 99L), true),
                new Case("uptime,100", Map.of("uptime", 500L), false));
        for (Case c : cases) {
            store.clear();
            HookResult result = mail(plugin(Map.of("p0f", c.option())), fingerprinted(c.fingerprint()), "<a@example.org>");
            assertEquals(c.greylisted() ? ReturnCode.DENYSOFT : ReturnCode.DECLINED, result.code(), c.toString());
        }
    }

    @Test
    void aKeyP0fDidNotNoteAndDetailMatchNothing() {
        // p0f 3 has no detail, and gives link and uptime only when it knows them
        TestContext linux = fingerprinted(Map.of("genre", "Linux 2.2.x-3.x", "distance", 0L));
        assertPassed(mail(plugin(Map.of("p0f", "link,.,uptime,1000000,detail,.")), linux, "<a@example.org>"));
        assertEquals(List.of("INFO skip: no p0f match"), linux.logged());
    }

    @Test
    void theOptionIsReadAsQpsmtpdReadsItsPairs() {
        Map<String, Object> windows = Map.of("genre", "Windows XP", "distance", 5L);
        // a later pair of the same key replaces an earlier one
        assertPassed(mail(plugin(Map.of("p0f", "genre,windows,genre,linux")), fingerprinted(windows), "<a@example.org>"));
        // invalid keys, an empty key and a key without a value are discarded; spaces around the commas do not count
        assertDeferred(mail(plugin(Map.of("p0f", "os,linux,Genre,linux,,x, genre , windows ,distance")),
                fingerprinted(windows), "<a@example.org>"));
        store.clear();
        // a pattern that is no regular expression is discarded, the other pairs stay
        assertDeferred(mail(plugin(Map.of("p0f", "genre,[,distance,4")), fingerprinted(windows), "<a@example.org>"));
        store.clear();
        // 0 turns the option off, as in qpsmtpd: everyone is greylisted, the note is not read
        TestContext anyone = new TestContext();
        assertDeferred(mail(plugin(Map.of("p0f", "0")), anyone, "<a@example.org>"));
        assertEquals(List.of("WARN fail: initial DENYSOFT, unknown"), anyone.logged());
    }

    @Test
    void numbersAreReadAsPerlReadsThem() {
        assertEquals(3, P0fMatch.perlNumber("3"));
        assertEquals(2.5, P0fMatch.perlNumber(" 2.5hops"));
        assertEquals(0, P0fMatch.perlNumber("three"));
        assertEquals(-1, P0fMatch.perlNumber(-1L));
        assertDeferred(mail(plugin(Map.of("p0f", "distance,x")), fingerprinted(Map.of("distance", 1L)), "<a@example.org>"));
    }

    @Test
    void withGeoipAClientFromAListedCountryIsNeitherDeferredNorRecorded() {
        TestContext canadian = locatedIn("CA", "Canada");
        assertPassed(mail(plugin(Map.of("geoip", "US,CA")), canadian, "<a@example.org>"));
        assertEquals(List.of("INFO pass: geoip country match (CA, Canada)"), canadian.logged());
        assertTrue(store.values().isEmpty());
    }

    @Test
    void withGeoipAClientFromAnotherCountryIsGreylisted() {
        TestContext french = locatedIn("FR", "France");
        assertDeferred(mail(plugin(Map.of("geoip", "US,CA")), french, "<a@example.org>"));
        assertEquals(List.of("INFO skip: no geoip match (France)", "WARN fail: initial DENYSOFT, unknown"), french.logged());
    }

    @Test
    void withGeoipAClientWithoutACountryIsGreylisted() {
        TestContext nowhere = new TestContext();
        assertDeferred(mail(plugin(Map.of("geoip", "US,CA")), nowhere, "<a@example.org>"));
        assertEquals(List.of("NOTICE skip: no geoip country", "WARN fail: initial DENYSOFT, unknown"), nowhere.logged());
    }

    /** qpsmtpd's own test of geoip_match (t/plugin_tests/greylisting): case does not count. */
    @Test
    void countriesCompareAsInQpsmtpdsTests() {
        Greylisting plugin = plugin(Map.of("geoip", "US,UK,HU"));
        for (String country : List.of("US", "us", "UK", "hu")) {
            assertPassed(mail(plugin, locatedIn(country, ""), "<a@example.org>"));
        }
        for (String country : List.of("PK", "RU", "ru")) {
            store.clear();
            assertDeferred(mail(plugin, locatedIn(country, ""), "<a@example.org>"));
        }
        assertPassed(mail(plugin(Map.of("geoip", " us , ca ")), locatedIn("CA", "Canada"), "<a@example.org>"));
    }

    @Test
    void exemptionsAreCheckedInQpsmtpdsOrder() {
        Map<String, Object> options = Map.of("p0f", "genre,windows", "geoip", "CA");
        TestContext immune = locatedIn("CA", "Canada");
        immune.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        assertPassed(mail(plugin(options), immune, "<a@example.org>"));
        assertEquals(List.of("INFO skip, relay client"), immune.logged());

        TestContext linuxInCanada = locatedIn("CA", "Canada");
        linuxInCanada.session().notes().put(P0F_NOTE, Map.of("genre", "Linux 3.11 and newer"));
        assertPassed(mail(plugin(options), linuxInCanada, "<a@example.org>"));
        assertEquals(List.of("INFO skip: no p0f match"), linuxInCanada.logged());

        TestContext windowsInFrance = locatedIn("FR", "France");
        windowsInFrance.session().notes().put(P0F_NOTE, Map.of("genre", "Windows 7 or 8"));
        assertDeferred(mail(plugin(options), windowsInFrance, "<a@example.org>"));
        assertEquals(List.of("DEBUG p0f genre match (windows)", "INFO skip: no geoip match (France)",
                "WARN fail: initial DENYSOFT, unknown"), windowsInFrance.logged());
    }

    @Test
    void atRcptTheExemptionsApplyToo() {
        Greylisting plugin = plugin(Map.of("recipient", "1", "geoip", "CA"));
        TestContext canadian = locatedIn("CA", "Canada");
        canadian.transaction().sender("<a@example.org>");
        assertPassed(HookResults.settled(plugin.onRcpt(canadian.rcpt("<user@localhost>"))));
        assertTrue(store.values().isEmpty());
        TestContext french = locatedIn("FR", "France");
        french.transaction().sender("<a@example.org>");
        assertDeferred(HookResults.settled(plugin.onRcpt(french.rcpt("<user@localhost>"))));
    }

    /** A StateStore in a map, with time to live by the test's clock; it fails every call when told to. */

}
