package org.postern.smtp.plugin.helo.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postern.smtp.api.ClientConversation;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;
import org.postern.smtp.testkit.TestResolver;

class HeloTest {
    /** Declared as another plugin would, to read the notes without importing this one. */
    private static final NoteKey<Boolean> FORWARD_MATCH = NoteKey.of("helo_forward_match", Boolean.class);
    private static final NoteKey<Boolean> REVERSE_MATCH = NoteKey.of("helo_reverse_match", Boolean.class);

    private final TestContext ctx = new TestContext();
    private final TestResolver dns = new TestResolver();

    private Helo plugin(String policy) {
        return plugin(Map.of("policy", policy));
    }

    private Helo plugin(Map<String, Object> options) {
        return new Helo(dns, TestConfig.of(Helo.Config.class, options));
    }

    /** The hook's answer to HELO with this host from the session's client (192.0.2.1), waiting if it comes later. */
    private HookResult helo(Helo plugin, String host) throws Exception {
        HookResult result = plugin.onHelo(ctx.helo(host));
        return HookResults.settled(result);
    }

    private Optional<Integer> karma() {
        return ctx.session().notes().get(SharedNotes.KARMA);
    }

    @Test
    void lenientPassesAnyNameWithoutDns() throws Exception {
        HookResult result = helo(plugin("lenient"), "whatever");
        assertEquals(ReturnCode.DECLINED, result.code());
        assertEquals(List.of(), dns.asked());
        assertTrue(ctx.logged().contains("INFO pass"), ctx.logged().toString());
        assertEquals(Optional.empty(), karma());
    }

    @Test
    void anExactBadheloEntryMatchesWithoutRegardToCaseAndDisconnectsByDefault() throws Exception {
        ctx.withConfig("badhelo", "Yahoo.com", "aol.com");
        HookResult result = helo(plugin("lenient"), "YAHOO.com");
        assertEquals(ReturnCode.DENY_DISCONNECT, result.code());
        assertEquals(List.of("I do not believe you are YAHOO.com."), result.message());
        assertEquals(Optional.of(-1), karma());
        assertTrue(ctx.logged().contains("INFO fail, in badhelo"), ctx.logged().toString());
        assertEquals(ReturnCode.DECLINED, helo(plugin("lenient"), "mail.yahoo.com").code(), "an exact entry matches only itself");
    }

    @Test
    void aBadheloPatternMatchesTheLowerCasedName() throws Exception {
        ctx.withConfig("badhelo", "^spam\\d+\\.");
        HookResult result = helo(plugin("lenient"), "SPAM12.example.org");
        assertEquals(ReturnCode.DENY_DISCONNECT, result.code());
        assertEquals(List.of("Your HELO hostname is not allowed"), result.message());
        assertTrue(ctx.logged().contains("INFO fail, badhelo pattern match (^spam\\d+\\.)"), ctx.logged().toString());
    }

    @Test
    void aNegatedPatternRefusesNamesThatDoNotMatch() throws Exception {
        ctx.withConfig("badhelo", "!\\.");
        assertEquals(ReturnCode.DENY_DISCONNECT, helo(plugin("lenient"), "nodots").code());
        assertEquals(ReturnCode.DECLINED, helo(plugin("lenient"), "mail.example.org").code());
    }

    @Test
    void entriesAfterAPatternThatDoesNotMatchAreStillTried() throws Exception {
        ctx.withConfig("badhelo", "^nomatch$", "bad.example", "bogus$");
        assertEquals(ReturnCode.DENY_DISCONNECT, helo(plugin("lenient"), "bad.example").code());
        assertEquals(ReturnCode.DENY_DISCONNECT, helo(plugin("lenient"), "very.bogus").code());
    }

    @Test
    void anInvalidPatternIsSkippedWithAWarning() throws Exception {
        ctx.withConfig("badhelo", "(unclosed", "bad.example");
        assertEquals(ReturnCode.DECLINED, helo(plugin("lenient"), "unclosed.example").code());
        assertTrue(ctx.logged().contains("WARN badhelo entry skipped, not a regular expression: (unclosed"), ctx.logged().toString());
        assertEquals(ReturnCode.DENY_DISCONNECT, helo(plugin("lenient"), "bad.example").code());
    }

    @Test
    void localhostIsOnlyBelievedFromTheLoopbackAddress() throws Exception {
        HookResult result = helo(plugin("lenient"), "LocalHost");
        assertEquals(ReturnCode.DENY_DISCONNECT, result.code());
        assertEquals(List.of("You are not localhost"), result.message());
        ctx.session().remote("127.0.0.1", 40000);
        assertEquals(ReturnCode.DECLINED, helo(plugin("lenient"), "localhost").code());
    }

    @Test
    void anAddressLiteralMustBeTheClientsAddress() throws Exception {
        HookResult forged = helo(plugin("lenient"), "[192.0.2.99]");
        assertEquals(ReturnCode.DENY_DISCONNECT, forged.code());
        assertEquals(List.of("Forged IPs not accepted here"), forged.message());
        assertEquals(ReturnCode.DECLINED, helo(plugin("lenient"), "[192.0.2.1]").code());
    }

    @Test
    void aPlainIpIsRefused() throws Exception {
        HookResult result = helo(plugin("lenient"), "192.0.2.1");
        assertEquals(ReturnCode.DENY_DISCONNECT, result.code());
        assertEquals(List.of("Plain IP is invalid HELO hostname (RFC 2821)"), result.message());
        assertEquals(ReturnCode.DECLINED, helo(plugin("lenient"), "1.2.3.4.example").code());
    }

    @ParameterizedTest
    @CsvSource({
        "rfc, nodots, HELO name is not fully qualified. Read RFC 2821",
        "rfc, bad_name.example, HELO name contains invalid FQDN characters. Read RFC 1035",
        "strict, nodots, HELO name is not fully qualified. Read RFC 2821",
    })
    void rfcAndStrictRefuseNamesThatAreNotFullyQualifiedBeforeAskingTheDns(String policy, String host, String reply) throws Exception {
        HookResult result = helo(plugin(policy), host);
        assertEquals(ReturnCode.DENY_DISCONNECT, result.code());
        assertEquals(List.of(reply), result.message());
        assertEquals(List.of(), dns.asked());
    }

    @Test
    void rfcAsksTheDnsWithoutHoldingTheThread() {
        dns.withA("mail.example.org", "198.51.100.7").withPtr("192.0.2.1", "host.isp.example");
        HookResult result = plugin("rfc").onHelo(ctx.helo("mail.example.org"));
        assertTrue(result.pending().isPresent());
        assertEquals(List.of("A mail.example.org", "AAAA mail.example.org", "PTR 192.0.2.1"), dns.asked());
    }

    @Test
    void rfcPassesANameThatResolvesFromAClientWithReverseDnsThoughTheyDoNotMatch() throws Exception {
        dns.withA("mail.example.org", "198.51.100.7").withPtr("192.0.2.1", "host.isp.example");
        assertEquals(ReturnCode.DECLINED, helo(plugin("rfc"), "mail.example.org").code());
        assertEquals(Optional.empty(), ctx.session().notes().get(FORWARD_MATCH));
        assertEquals(Optional.empty(), ctx.session().notes().get(REVERSE_MATCH));
    }

    @Test
    void rfcRefusesANameWithoutAddresses() throws Exception {
        dns.withPtr("192.0.2.1", "host.isp.example");
        HookResult result = helo(plugin("rfc"), "gone.example.org");
        assertEquals(ReturnCode.DENY_DISCONNECT, result.code());
        assertEquals(List.of("HELO hostname did not resolve"), result.message());
        assertTrue(ctx.logged().contains("INFO fail, no forward DNS"), ctx.logged().toString());
    }

    @Test
    void anIpv6AddressIsEnoughForwardDns() throws Exception {
        dns.withAaaa("v6.example.org", "2001:db8::1").withPtr("192.0.2.1", "host.isp.example");
        assertEquals(ReturnCode.DECLINED, helo(plugin("rfc"), "v6.example.org").code());
    }

    @Test
    void rfcRefusesAClientWithoutReverseDns() throws Exception {
        dns.withA("mail.example.org", "192.0.2.1");
        HookResult result = helo(plugin("rfc"), "mail.example.org");
        assertEquals(ReturnCode.DENY_DISCONNECT, result.code());
        assertEquals(List.of("no rDNS for 192.0.2.1"), result.message());
        assertEquals(Optional.of(true), ctx.session().notes().get(FORWARD_MATCH), "the forward match is noted all the same");
    }

    @Test
    void anAddressLiteralSkipsTheForwardLookupButNotTheReverseOne() throws Exception {
        HookResult result = helo(plugin("rfc"), "[192.0.2.1]");
        assertEquals(List.of("no rDNS for 192.0.2.1"), result.message());
        assertEquals(List.of("PTR 192.0.2.1"), dns.asked());
    }

    @Test
    void lookupsTheDnsCannotAnswerFailNoTest() throws Exception {
        dns.failing("mail.example.org").failing("192.0.2.1");
        assertEquals(ReturnCode.DECLINED, helo(plugin("rfc"), "mail.example.org").code());
        assertTrue(ctx.logged().stream().anyMatch(line -> line.startsWith("ERROR skip, query failed (TIMEOUT")), ctx.logged().toString());
        assertTrue(ctx.logged().stream().anyMatch(line -> line.startsWith("ERROR skip, reverse query failed (TIMEOUT")), ctx.logged().toString());
    }

    @Test
    void aLookupWithoutAnAnswerWithinTheTimeoutFailsNoTest() throws Exception {
        dns.holdingA().withPtr("192.0.2.1", "host.isp.example");
        HookResult result = helo(plugin(Map.of("policy", "rfc", "timeout", 1)), "slow.example.org");
        assertEquals(ReturnCode.DECLINED, result.code());
        assertTrue(ctx.logged().contains("ERROR skip, query failed (no answer within 1 s)"), ctx.logged().toString());
    }

    @Test
    void strictRefusesAnAddressLiteralOnceTheClientHasReverseDns() throws Exception {
        dns.withPtr("192.0.2.1", "host.isp.example");
        HookResult result = helo(plugin("strict"), "[192.0.2.1]");
        assertEquals(ReturnCode.DENY_DISCONNECT, result.code());
        assertEquals(List.of("RFC 2821 allows an address literal, but we do not"), result.message());
    }

    @Test
    void strictRefusesANameThatNeitherResolvesToTheClientNorSharesItsReverseDomain() throws Exception {
        dns.withA("mail.example.org", "198.51.100.7").withPtr("192.0.2.1", "host.isp.example");
        HookResult result = helo(plugin("strict"), "mail.example.org");
        assertEquals(ReturnCode.DENY_DISCONNECT, result.code());
        assertEquals(List.of("That HELO hostname fails FCrDNS"), result.message());
        assertTrue(ctx.logged().contains("INFO fail, no matching DNS"), ctx.logged().toString());
    }

    @Test
    void strictTakesAnAddressInTheClientsSlash24ForAForwardMatch() throws Exception {
        dns.withA("mx0.example.org", "192.0.2.200").withPtr("192.0.2.1", "host.isp.example");
        assertEquals(ReturnCode.DECLINED, helo(plugin("strict"), "mx0.example.org").code());
        assertEquals(Optional.of(true), ctx.session().notes().get(FORWARD_MATCH));
        assertEquals(Optional.empty(), ctx.session().notes().get(REVERSE_MATCH));
        assertEquals(Optional.empty(), karma());
    }

    @Test
    void strictTakesAReverseNameInTheSameDomainForAReverseMatch() throws Exception {
        dns.withA("mx0.slc.paypal.com", "198.51.100.7").withPtr("192.0.2.1", "MX1.slc.paypal.com");
        assertEquals(ReturnCode.DECLINED, helo(plugin("strict"), "mx0.slc.paypal.com").code());
        assertEquals(Optional.of(true), ctx.session().notes().get(REVERSE_MATCH));
        assertEquals(Optional.empty(), ctx.session().notes().get(FORWARD_MATCH));
    }

    @Test
    void aSingleLabelReverseNameIsNoMatch() throws Exception {
        dns.withA("mail.example.org", "198.51.100.7").withPtr("192.0.2.1", "org");
        assertEquals(ReturnCode.DENY_DISCONNECT, helo(plugin("strict"), "mail.example.org").code());
        assertEquals(Optional.empty(), ctx.session().notes().get(REVERSE_MATCH));
    }

    @Test
    void aPerfectMatchEarnsKarmaAndASecondHeloLosesTheStaleNotes() throws Exception {
        dns.withA("mail.example.org", "192.0.2.1").withPtr("192.0.2.1", "mail.example.org");
        Helo plugin = plugin("strict");
        assertEquals(ReturnCode.DECLINED, helo(plugin, "mail.example.org").code());
        assertEquals(Optional.of(1), karma());
        assertEquals(Optional.of(true), ctx.session().notes().get(FORWARD_MATCH));
        assertEquals(Optional.of(true), ctx.session().notes().get(REVERSE_MATCH));

        assertEquals(ReturnCode.DENY_DISCONNECT, helo(plugin, "other.example.net").code(), "other.example.net has no address");
        assertEquals(Optional.empty(), ctx.session().notes().get(FORWARD_MATCH));
        assertEquals(Optional.empty(), ctx.session().notes().get(REVERSE_MATCH));
    }

    @Test
    void anUnknownPolicyIsLenient() throws Exception {
        assertEquals(ReturnCode.DECLINED, helo(plugin("paranoid"), "nodots").code());
        assertEquals(List.of(), dns.asked());
    }

    @ParameterizedTest
    @CsvSource({"temp, DENYSOFT", "perm, DENY", "disconnect, DENY_DISCONNECT", "temp_disconnect, DENYSOFT_DISCONNECT", "other, DENY"})
    void rejectTypeChoosesTheRefusal(String rejectType, ReturnCode expected) throws Exception {
        assertEquals(expected, helo(plugin(Map.of("reject_type", rejectType)), "192.0.2.1").code());
    }

    @Test
    void rejectZeroOnlyLogsAndLowersTheKarma() throws Exception {
        assertEquals(ReturnCode.DECLINED, helo(plugin(Map.of("reject", "0")), "192.0.2.1").code());
        assertTrue(ctx.logged().contains("INFO fail, tolerated, plain IP"), ctx.logged().toString());
        assertEquals(Optional.of(-1), karma());
    }

    @Test
    void rejectNaughtyLeavesTheRefusalToTheNaughtyPlugin() throws Exception {
        assertEquals(ReturnCode.DECLINED, helo(plugin(Map.of("reject", "naughty")), "192.0.2.1").code());
        assertEquals(Optional.of("Plain IP is invalid HELO hostname (RFC 2821)"), ctx.session().notes().get(SharedNotes.NAUGHTY));
        assertEquals(Optional.of("disconnect"), ctx.session().notes().get(SharedNotes.NAUGHTY_REJECT_TYPE));
    }

    @Test
    void anImmuneClientIsNotChecked() throws Exception {
        ctx.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        assertEquals(ReturnCode.DECLINED, helo(plugin("strict"), "192.0.2.1").code());
        assertEquals(List.of(), dns.asked());
        assertTrue(ctx.logged().contains("INFO skip, relay client"), ctx.logged().toString());
    }

    @Test
    void anEmptyHostIsToleratedAtTheCostOfKarma() throws Exception {
        assertEquals(ReturnCode.DECLINED, helo(plugin("strict"), "").code());
        assertEquals(Optional.of(-2), karma());
        assertTrue(ctx.logged().contains("INFO fail, tolerated, no helo host"), ctx.logged().toString());
    }

    @Test
    void ehloIsCheckedAsHeloIs() {
        assertEquals(ReturnCode.DENY_DISCONNECT, plugin("lenient").onEhlo(ctx.helo("192.0.2.1")).code());
    }

    @Test
    void eachMessageGetsOneXHeloHeaderOnTop() {
        ctx.session().helo("mail.example.org");
        ctx.transaction().message("Subject: hi\r\nX-HELO: forged\r\n\r\nbody\r\n");
        assertEquals(ReturnCode.DECLINED, plugin("lenient").onDataPost(ctx).code());
        var header = ctx.transaction().header().orElseThrow();
        assertEquals(List.of("mail.example.org"), header.get("X-HELO"));
        assertEquals("X-HELO", header.fields().get(0).name());
    }

    @Test
    void aNegativeTimeoutFallsBackToTheDefault() throws Exception {
        Helo plugin = plugin(Map.of("policy", "rfc", "timeout", -1));
        dns.withA("mail.example.org", "192.0.2.1").withPtr("192.0.2.1", "mail.example.org");
        assertEquals(ReturnCode.DECLINED, helo(plugin, "mail.example.org").code());
        assertFalse(ctx.logged().stream().anyMatch(line -> line.startsWith("ERROR")), ctx.logged().toString());
    }
}
