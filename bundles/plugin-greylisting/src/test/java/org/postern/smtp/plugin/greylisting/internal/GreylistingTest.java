package org.postern.smtp.plugin.greylisting.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.store.StateStore;
import org.postern.smtp.testkit.TestClock;
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
    private final MapStore store = new MapStore(clock);

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
        assertEquals(START.getEpochSecond() + ":1:0:0", store.values.get(CLIENT_KEY));
        assertEquals(START.plus(GREY), store.expiries.get(CLIENT_KEY));
    }

    @Test
    void aRetryWithinTheBlackTimeoutIsDeferredWithoutMovingItsStart() {
        Greylisting plugin = plugin(Map.of());
        mail(plugin);
        clock.advance(BLACK.minusSeconds(1));
        TestContext retry = new TestContext();
        assertDeferred(mail(plugin, retry, "<a@example.org>"));
        assertEquals(List.of("WARN fail: black DENYSOFT - 1 deferred connections"), retry.logged());
        assertEquals(START.getEpochSecond() + ":1:1:0", store.values.get(CLIENT_KEY));
        assertEquals(START.plus(GREY), store.expiries.get(CLIENT_KEY));
    }

    @Test
    void aRetryAfterTheBlackTimeoutIsAcceptedAndWhitelistsTheTriplet() {
        Greylisting plugin = plugin(Map.of());
        mail(plugin);
        clock.advance(BLACK);
        TestContext retry = new TestContext();
        assertPassed(mail(plugin, retry, "<a@example.org>"));
        assertEquals(List.of("WARN pass: updated grey->white"), retry.logged());
        assertEquals(START.plus(BLACK).plus(WHITE), store.expiries.get(CLIENT_KEY));

        clock.advance(Duration.ofDays(30));
        TestContext later = new TestContext();
        assertPassed(mail(plugin, later, "<other@example.net>"));
        assertEquals(List.of("INFO pass: white, 2 deliveries"), later.logged());
        assertEquals(clock.instant().plus(WHITE), store.expiries.get(CLIENT_KEY));
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
        store.values.put(CLIENT_KEY, "not a record");
        store.expiries.put(CLIENT_KEY, START.plus(WHITE));
        assertDeferred(mail(plugin(Map.of())));
        assertEquals(START.getEpochSecond() + ":1:0:0", store.values.get(CLIENT_KEY));
    }

    @Test
    void theSenderCanBePartOfTheTriplet() {
        Greylisting plugin = plugin(Map.of("sender", "1"));
        mail(plugin);
        clock.advance(BLACK);
        assertPassed(mail(plugin));
        assertDeferred(mail(plugin, new TestContext(), "<b@example.org>"));
        assertEquals(START.getEpochSecond() + BLACK.toSeconds() + ":1:0:0",
                store.values.get(CLIENT_KEY + ":b@example.org"));
    }

    @Test
    void withoutTheAddressOnlyTheSenderCounts() {
        Greylisting plugin = plugin(Map.of("remote_ip", "0", "sender", "1"));
        mail(plugin);
        TestContext elsewhere = new TestContext();
        elsewhere.session().remote("198.51.100.7", 25);
        assertDeferred(mail(plugin, elsewhere, "<a@example.org>"));
        assertEquals(List.of("WARN fail: black DENYSOFT - 1 deferred connections"), elsewhere.logged());
        assertEquals(Map.of("greylisting:a@example.org", START.getEpochSecond() + ":1:1:0"), store.values);
    }

    @Test
    void anIpv6ClientIsKeyedByItsNumberAsInQpsmtpd() {
        TestContext ctx = new TestContext();
        ctx.session().remote("2001:db8::1", 25);
        mail(plugin(Map.of()), ctx, "<a@example.org>");
        assertEquals(List.of("greylisting:42540766411282592856903984951653826561"), List.copyOf(store.values.keySet()));
    }

    @Test
    void withTheRecipientInTheTripletTheCheckMovesToRcpt() {
        Greylisting plugin = plugin(Map.of("recipient", "1"));
        TestContext ctx = new TestContext();
        ctx.transaction().sender("<a@example.org>");
        assertPassed(mail(plugin, ctx, "<a@example.org>"));
        assertTrue(store.values.isEmpty());
        assertDeferred(HookResults.settled(plugin.onRcpt(ctx.rcpt("<user@localhost>"))));
        assertEquals(List.of(CLIENT_KEY + ":user@localhost"), List.copyOf(store.values.keySet()));
    }

    @Test
    void perRecipientChecksAtRcptWithoutTheRecipientInTheKey() {
        Greylisting plugin = plugin(Map.of("per_recipient", "1"));
        TestContext ctx = new TestContext();
        ctx.transaction().sender("<a@example.org>");
        assertPassed(mail(plugin, ctx, "<a@example.org>"));
        assertDeferred(HookResults.settled(plugin.onRcpt(ctx.rcpt("<user@localhost>"))));
        assertEquals(List.of(CLIENT_KEY), List.copyOf(store.values.keySet()));
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
        assertTrue(store.values.isEmpty());
    }

    @Test
    void aWhitelistedSenderIsNotDeferred() {
        TestContext ctx = new TestContext();
        ctx.transaction().notes().put(SharedNotes.WHITELIST_SENDER, true);
        assertPassed(mail(plugin(Map.of()), ctx, "<a@example.org>"));
        assertTrue(store.values.isEmpty());
    }

    @Test
    void rejectZeroRecordsButDefersNothing() {
        Greylisting plugin = plugin(Map.of("reject", "0"));
        TestContext ctx = new TestContext();
        assertPassed(mail(plugin, ctx, "<a@example.org>"));
        assertEquals(List.of("WARN fail: initial DENYSOFT, unknown"), ctx.logged());
        assertEquals(START.getEpochSecond() + ":1:0:0", store.values.get(CLIENT_KEY));
    }

    @Test
    void theDeprecatedModeSetsRejectUnlessRejectIsGiven() {
        assertPassed(mail(plugin(Map.of("mode", "testonly"))));
        store.values.clear();
        assertPassed(mail(plugin(Map.of("mode", "off"))));
        store.values.clear();
        assertDeferred(mail(plugin(Map.of("mode", "denysoft"))));
        store.values.clear();
        assertDeferred(mail(plugin(Map.of("mode", "testonly", "reject", "1"))));
    }

    @Test
    void aStoreFailurePassesByDefault() {
        store.failing = true;
        TestContext ctx = new TestContext();
        assertPassed(mail(plugin(Map.of()), ctx, "<a@example.org>"));
        assertEquals(List.of("ERROR state store failed, passed: java.io.IOException: store down"), ctx.logged());
    }

    @Test
    void aStoreFailureDefersWhenConfiguredTo() {
        store.failing = true;
        TestContext ctx = new TestContext();
        assertDeferred(mail(plugin(Map.of("store_failure", "defer")), ctx, "<a@example.org>"));
        assertEquals(List.of("ERROR state store failed, deferred: java.io.IOException: store down"), ctx.logged());
    }

    @Test
    void unusableOptionsFallBackToTheDefaults() {
        assertDeferred(mail(plugin(Map.of("remote_ip", "0"))));
        assertEquals(List.of(CLIENT_KEY), List.copyOf(store.values.keySet()));

        Greylisting swapped = plugin(Map.of("black_timeout", 600, "grey_timeout", 300));
        clock.advance(Duration.ofMinutes(20));
        assertDeferred(mail(swapped));
        assertTrue(store.values.get(CLIENT_KEY).endsWith(":1:1:0"), "still black at 20 minutes, as with 50");
    }

    @Test
    void anUnknownStoreFailureBehaviourPasses() {
        store.failing = true;
        assertPassed(mail(plugin(Map.of("store_failure", "sometimes"))));
    }

    @Test
    void p0fIsAcceptedAndIgnored() {
        assertDeferred(mail(plugin(Map.of("p0f", "genre,windows"))));
    }

    /** A StateStore in a map, with time to live by the test's clock; it fails every call when told to. */
    private static final class MapStore implements StateStore {
        final Map<String, String> values = new HashMap<>();
        final Map<String, Instant> expiries = new HashMap<>();
        private final Clock clock;
        boolean failing;

        MapStore(Clock clock) {
            this.clock = clock;
        }

        private <T> CompletionStage<T> answer(Supplier<T> work) {
            return failing ? CompletableFuture.failedFuture(new java.io.IOException("store down"))
                    : CompletableFuture.completedFuture(work.get());
        }

        private boolean alive(String key) {
            return values.containsKey(key) && clock.instant().isBefore(expiries.get(key));
        }

        @Override
        public CompletionStage<Optional<String>> get(String key) {
            return answer(() -> alive(key) ? Optional.of(values.get(key)) : Optional.empty());
        }

        @Override
        public CompletionStage<Void> put(String key, String value, Duration ttl) {
            return answer(() -> {
                values.put(key, value);
                expiries.put(key, clock.instant().plus(ttl));
                return null;
            });
        }

        @Override
        public CompletionStage<Long> add(String key, long delta, Duration ttl) {
            throw new UnsupportedOperationException("greylisting does not count");
        }

        @Override
        public CompletionStage<Boolean> remove(String key) {
            throw new UnsupportedOperationException("greylisting does not remove");
        }
    }

}
