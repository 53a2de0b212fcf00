package org.postern.smtp.plugin.dnswhitelistsoft.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.dns.DnsFailure;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestContext;
import org.postern.smtp.testkit.TestResolver;

class DnsWhitelistSoftTest {
    /** The test session's client is 192.0.2.1. */
    private static final String LISTED_NAME = "1.2.0.192.wl.test";

    private final TestResolver dns = new TestResolver();
    private final TestContext ctx = new TestContext().withConfig("whitelist_zones", "wl.test", "other.test our partners");

    /** The hook's answer, once its lookups are back. */
    private HookResult connect(DnsWhitelistSoft plugin) {
        HookResult result = plugin.onConnect(ctx);
        return HookResults.settled(result);
    }

    private Optional<Boolean> whitelisted() {
        return ctx.session().notes().get(SharedNotes.WHITELIST_HOST);
    }

    @Test
    void aListedClientGetsTheWhitelisthostNoteAndBecomesImmune() {
        dns.withA(LISTED_NAME, "127.0.0.2");
        assertEquals(ReturnCode.DECLINED, connect(new DnsWhitelistSoft(dns)).code());
        assertEquals(Optional.of(true), whitelisted());
        assertTrue(ctx.logged().contains("NOTICE Host 192.0.2.1 is whitelisted: listed in wl.test"), ctx.logged().toString());
        assertTrue(PluginConventions.isImmune(ctx), "plugins that honour immunity now leave the client alone");
    }

    @Test
    void anUnlistedClientIsNotWhitelisted() {
        assertEquals(ReturnCode.DECLINED, connect(new DnsWhitelistSoft(dns)).code());
        assertEquals(Optional.empty(), whitelisted());
        assertEquals(List.of("A 1.2.0.192.wl.test", "A 1.2.0.192.other.test"), dns.asked(),
                "only the first word of a zone line is the zone");
        assertFalse(PluginConventions.isImmune(ctx));
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "127.0.0.255", "127.255.255.254", "192.0.2.99"})
    void answersThatAreNoListingWhitelistNobodyAndAreLogged(String answer) {
        dns.withA(LISTED_NAME, answer);
        connect(new DnsWhitelistSoft(dns));
        assertEquals(Optional.empty(), whitelisted());
        assertTrue(ctx.logged().stream().anyMatch(line -> line.startsWith("WARN " + LISTED_NAME + " answered [" + answer + "]")),
                ctx.logged().toString());
    }

    @Test
    void listingsRunFrom127_0_0_2UpToTheErrorCodes() throws UnknownHostException {
        for (String listing : List.of("127.0.0.2", "127.0.15.0", "127.0.10.3", "127.0.1.255", "127.255.254.255")) {
            assertTrue(DnsWhitelistSoft.isListing(InetAddress.getByName(listing)), listing);
        }
        for (String refusal : List.of("127.0.0.0", "127.0.0.1", "127.0.0.255", "127.255.255.0", "10.0.0.2", "::1")) {
            assertFalse(DnsWhitelistSoft.isListing(InetAddress.getByName(refusal)), refusal);
        }
    }

    @Test
    void aZoneTheDnsCannotAnswerWhitelistsNobodyButTheOthersStillCount() {
        dns.failing(LISTED_NAME);
        assertEquals(ReturnCode.DECLINED, connect(new DnsWhitelistSoft(dns)).code());
        assertEquals(Optional.empty(), whitelisted());
        assertTrue(ctx.logged().contains("ERROR wl.test query failed: " + LISTED_NAME + ": test failure"), ctx.logged().toString());

        dns.failing(LISTED_NAME, DnsFailure.Kind.SERVER_FAILURE).withA("1.2.0.192.other.test", "127.0.0.3");
        connect(new DnsWhitelistSoft(dns));
        assertEquals(Optional.of(true), whitelisted());
    }

    @Test
    void anIpv6ClientIsLookedUpByReversedNibbles() {
        ctx.session().remote("2001:db8::1", 40000);
        String name = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.wl.test";
        dns.withA(name, "127.0.0.2");
        connect(new DnsWhitelistSoft(dns));
        assertEquals("A " + name, dns.asked().get(0));
        assertEquals(Optional.of(true), whitelisted());
    }

    @Test
    void nothingIsLookedUpWithoutZonesOrForAClientAlreadyWhitelisted() {
        TestContext noZones = new TestContext();
        HookResult answer = new DnsWhitelistSoft(dns).onConnect(noZones);
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertTrue(answer.pending().isEmpty());

        ctx.session().notes().put(SharedNotes.WHITELIST_HOST, true);
        assertTrue(new DnsWhitelistSoft(dns).onConnect(ctx).pending().isEmpty());
        assertEquals(List.of(), dns.asked());
    }

    @Test
    void allZonesAreAskedAtOnceAndTheFirstListingAnswersWithoutWaitingForTheRest() {
        TestResolver held = new TestResolver().holdingA();
        CompletableFuture<HookResult> later = new DnsWhitelistSoft(held).onConnect(ctx).pending().orElseThrow().toCompletableFuture();
        assertEquals(List.of("A " + LISTED_NAME, "A 1.2.0.192.other.test"), held.asked(),
                "both zones asked before either answered");

        held.answerA("1.2.0.192.other.test", "127.0.0.2");
        assertTrue(later.isDone(), "a listing needs no other zone");
        assertEquals(ReturnCode.DECLINED, later.join().code());
        assertEquals(Optional.of(true), whitelisted());
        held.answerA(LISTED_NAME);
        assertEquals(1, ctx.logged().stream().filter(line -> line.contains("is whitelisted")).count());
    }

    @Test
    void withoutAListingTheHookWaitsForEveryZone() {
        TestResolver held = new TestResolver().holdingA();
        CompletableFuture<HookResult> later = new DnsWhitelistSoft(held).onConnect(ctx).pending().orElseThrow().toCompletableFuture();
        held.answerA(LISTED_NAME);
        assertFalse(later.isDone());
        held.answerA("1.2.0.192.other.test");
        assertEquals(ReturnCode.DECLINED, later.join().code());
        assertEquals(Optional.empty(), whitelisted());
    }
}
