package org.postern.smtp.plugin.resolvablefromhost.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.dns.DnsFailure;
import org.postern.smtp.api.dns.MxRecord;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;
import org.postern.smtp.testkit.TestResolver;

class ResolvableFromhostTest {
    private static final String FQDN_REQUIRED = "FQDN required in the envelope sender";
    private static final String NOT_RESOLVED = "Temporary address resolution failure";

    private final TestContext ctx = new TestContext();
    private final TestResolver dns = new TestResolver();

    private static ResolvableFromhost.Config config(String reject, String rejectType) {
        return TestConfig.of(ResolvableFromhost.Config.class, Map.of("reject", reject, "reject_type", rejectType));
    }

    /** The plugin with qpsmtpd's defaults: reject 1, reject_type soft. */
    private ResolvableFromhost plugin() {
        return new ResolvableFromhost(config("1", "soft"), dns);
    }

    /** The hook's answer for this sender, waiting for it when it comes later. */
    private static HookResult answer(ResolvableFromhost plugin, TestContext ctx, String sender) {
        HookResult result = plugin.onMail(ctx.mail(sender));
        return HookResults.settled(result);
    }

    private HookResult answer(String sender) {
        return answer(plugin(), ctx, sender);
    }

    private Optional<String> result() {
        return ctx.transaction().notes().get(ResolvableFromhost.RESULT);
    }

    private int karma() {
        return ctx.session().notes().get(SharedNotes.KARMA).orElse(0);
    }

    private static void assertRefused(HookResult answer, ReturnCode code, String status, String text) {
        assertEquals(code, answer.code(), answer.toString());
        assertEquals(Optional.of(status), answer.enhancedStatus(), answer.toString());
        assertEquals(List.of(text), answer.message());
    }

    @Test
    void aDomainWhoseMxHasAUsableAddressPasses() {
        dns.withMx("good.test", 10, "mx.good.test").withA("mx.good.test", "192.0.2.10");
        HookResult answer = answer("<a@good.test>");
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertEquals(Optional.of("mx"), result());
        assertEquals(Optional.of("good.test"), ctx.transaction().notes().get(ResolvableFromhost.FROMHOST));
        assertTrue(ctx.logged().contains("INFO pass, good.test has MX at mx.good.test"), ctx.logged().toString());
        assertEquals(0, karma());
        assertFalse(dns.asked().contains("A good.test"), "no implicit MX when there are MX records: " + dns.asked());
    }

    @Test
    void theMxHostsAreAskedByPreferenceUntilOneHasAUsableAddress() {
        dns.withMx("good.test", 30, "third.good.test").withMx("good.test", 10, "first.good.test")
                .withMx("good.test", 20, "second.good.test").withAaaa("second.good.test", "2001:db8::25")
                .withA("third.good.test", "192.0.2.30");
        assertEquals(ReturnCode.DECLINED, answer("<a@good.test>").code());
        assertEquals(Optional.of("mx"), result());
        assertEquals(List.of("MX good.test", "A first.good.test", "AAAA first.good.test", "A second.good.test",
                "AAAA second.good.test"), dns.asked());
    }

    @Test
    void anMxHostGivenAsAnAddressIsJudgedWithoutALookup() {
        dns.withMx("literal.test", 10, "192.0.2.7").withMx("private-literal.test", 10, "10.1.2.3");
        assertEquals(ReturnCode.DECLINED, answer("<a@literal.test>").code());
        assertEquals(Optional.of("mx"), result());
        assertEquals(ReturnCode.DENYSOFT, answer("<a@private-literal.test>").code());
        assertEquals(List.of("MX literal.test", "MX private-literal.test"), dns.asked());
    }

    @Test
    void anMxPointingToAHostWithoutAddressesIsAnInvalidMx() {
        dns.withMx("dangling.test", 10, "gone.dangling.test");
        assertRefused(answer("<a@dangling.test>"), ReturnCode.DENYSOFT, "4.1.8", FQDN_REQUIRED);
        assertEquals(Optional.of("invalid MX for dangling.test"), result());
        assertEquals(-2, karma());
        assertTrue(ctx.logged().contains("INFO fail, invalid MX for dangling.test"), ctx.logged().toString());
    }

    @Test
    void anMxWhoseHostsAreAllInInvalidNetworksIsAnInvalidMx() {
        dns.withMx("private.test", 10, "mx1.private.test").withA("mx1.private.test", "127.0.0.1", "10.9.8.7")
                .withMx("private.test", 20, "mx2.private.test").withA("mx2.private.test", "169.254.1.1");
        assertRefused(answer("<a@private.test>"), ReturnCode.DENYSOFT, "4.1.8", FQDN_REQUIRED);
        assertEquals(Optional.of("invalid MX for private.test"), result());
    }

    @Test
    void oneUsableAddressAmongInvalidOnesIsEnough() {
        dns.withMx("mixed.test", 10, "mx.mixed.test").withA("mx.mixed.test", "127.0.0.1", "192.0.2.44");
        assertEquals(ReturnCode.DECLINED, answer("<a@mixed.test>").code());
        assertEquals(Optional.of("mx"), result());
    }

    @Test
    void withoutMxTheDomainsOwnAddressIsItsImplicitMx() {
        dns.withA("plain.test", "192.0.2.20");
        assertEquals(ReturnCode.DECLINED, answer("<a@plain.test>").code());
        assertEquals(Optional.of("a"), result());
        assertEquals(List.of("INFO plain.test has no MX", "INFO karma -1 (-1)", "INFO pass, found A for plain.test"), ctx.logged());
    }

    @Test
    void anIpv6AddressAloneIsEnoughAndAIsAskedAlongsideAaaa() {
        dns.withAaaa("v6.test", "2001:db8::1");
        assertEquals(ReturnCode.DECLINED, answer("<a@v6.test>").code());
        assertEquals(Optional.of("a"), result());
        assertEquals(List.of("MX v6.test", "A v6.test", "AAAA v6.test"), dns.asked());
    }

    @Test
    void withoutMxAndWithOnlyInvalidAddressesTheSenderIsRefused() {
        dns.withA("loopback.test", "127.0.0.2");
        assertRefused(answer("<a@loopback.test>"), ReturnCode.DENYSOFT, "4.1.8", FQDN_REQUIRED);
        assertEquals(Optional.of("invalid A for loopback.test"), result());
        assertEquals(-2, karma());
    }

    @Test
    void aDomainWithNoRecordsAtAllIsQpsmtpdsMissingResult() {
        assertRefused(answer("<a@nxdomain.test>"), ReturnCode.DENYSOFT, "4.4.3", NOT_RESOLVED);
        assertEquals(Optional.empty(), result(), "qpsmtpd leaves no result note here");
        assertEquals(-1, karma());
        assertTrue(ctx.logged().contains("INFO fail, missing result"), ctx.logged().toString());
        HookResult permanent = answer(new ResolvableFromhost(config("1", "perm"), dns), new TestContext(), "<a@nxdomain.test>");
        assertRefused(permanent, ReturnCode.DENY, "5.4.3", NOT_RESOLVED);
    }

    @Test
    void aNullMxRefusesWithRfc7505sReplyAndAsksNothingMore() {
        dns.withMx("nomail.test", 0, "");
        assertRefused(answer("<a@nomail.test>"), ReturnCode.DENYSOFT, "4.7.27", "Sender address has null MX");
        assertEquals(Optional.of("null MX for nomail.test"), result());
        assertEquals(-2, karma());
        assertEquals(List.of("MX nomail.test"), dns.asked());
        HookResult permanent = answer(new ResolvableFromhost(config("1", "perm"), dns), new TestContext(), "<a@nomail.test>");
        assertRefused(permanent, ReturnCode.DENY, "5.7.27", "Sender address has null MX");
    }

    @Test
    void aNullMxBesideRealOnesIsSkipped() {
        dns.withMx("odd.test", 0, "").withMx("odd.test", 10, "mx.odd.test").withA("mx.odd.test", "192.0.2.5");
        assertEquals(ReturnCode.DECLINED, answer("<a@odd.test>").code());
        assertEquals(Optional.of("mx"), result());
    }

    @ParameterizedTest
    @CsvSource({"soft", "perm"})
    void anMxLookupThatFailsDefersWhateverTheRejectType(String rejectType) {
        dns.failing("slow.test", DnsFailure.Kind.TIMEOUT);
        HookResult answer = answer(new ResolvableFromhost(config("1", rejectType), dns), ctx, "<a@slow.test>");
        assertRefused(answer, ReturnCode.DENYSOFT, "4.4.3", NOT_RESOLVED);
        assertEquals(List.of("MX slow.test"), dns.asked(), "no implicit MX when the MX lookup failed");
        assertTrue(ctx.logged().contains("WARN fail, MX query for slow.test, TIMEOUT"), ctx.logged().toString());
        assertEquals(Optional.empty(), result());
        assertEquals(0, karma());
    }

    @Test
    void anMxHostWhoseLookupFailsDefersUnlessAnotherMxHostIsUsable() {
        dns.withMx("flaky.test", 10, "mx.flaky.test").failing("mx.flaky.test", DnsFailure.Kind.SERVER_FAILURE);
        assertRefused(answer(new ResolvableFromhost(config("1", "perm"), dns), ctx, "<a@flaky.test>"),
                ReturnCode.DENYSOFT, "4.4.3", NOT_RESOLVED);
        assertTrue(ctx.logged().contains("WARN fail, A query for mx.flaky.test, SERVER_FAILURE"), ctx.logged().toString());

        dns.withMx("flaky.test", 20, "backup.flaky.test").withA("backup.flaky.test", "192.0.2.8");
        assertEquals(ReturnCode.DECLINED, answer("<a@flaky.test>").code());
        assertEquals(Optional.of("mx"), result());
    }

    @Test
    void aFailedAaaaLookupDoesNotMatterWhenTheAAnswerIsUsable() {
        TestResolver noIpv6 = new TestResolver() {
            @Override
            public CompletionStage<List<InetAddress>> ipv6(String name) {
                return CompletableFuture.failedFuture(new DnsFailure(DnsFailure.Kind.TIMEOUT, name, "test", null));
            }
        };
        noIpv6.withA("plain.test", "192.0.2.20").withA("loopback.test", "127.0.0.1");
        ResolvableFromhost plugin = new ResolvableFromhost(config("1", "soft"), noIpv6);
        assertEquals(ReturnCode.DECLINED, answer(plugin, ctx, "<a@plain.test>").code());
        assertRefused(answer(plugin, ctx, "<a@loopback.test>"), ReturnCode.DENYSOFT, "4.4.3", NOT_RESOLVED);
    }

    @Test
    void aBugInsteadOfADnsFailureFailsTheHook() {
        TestResolver broken = new TestResolver() {
            @Override
            public CompletionStage<List<MxRecord>> mx(String name) {
                return CompletableFuture.failedFuture(new IllegalStateException("bug"));
            }
        };
        HookResult later = new ResolvableFromhost(config("1", "soft"), broken).onMail(ctx.mail("<a@good.test>"));
        CompletableFuture<HookResult> stage = later.pending().orElseThrow().toCompletableFuture();
        CompletionException failure = assertThrows(CompletionException.class, stage::join);
        assertEquals("bug", failure.getCause().getMessage());
    }

    @Test
    void theHookAnswersAtOnceAndTheVerdictWhenTheDnsDoes() {
        CompletableFuture<List<MxRecord>> mx = new CompletableFuture<>();
        TestResolver waiting = new TestResolver() {
            @Override
            public CompletionStage<List<MxRecord>> mx(String name) {
                return mx;
            }
        };
        HookResult later = new ResolvableFromhost(config("1", "soft"), waiting).onMail(ctx.mail("<a@good.test>"));
        CompletableFuture<HookResult> stage = later.pending().orElseThrow().toCompletableFuture();
        assertFalse(stage.isDone());
        mx.complete(List.of(new MxRecord(10, "192.0.2.1")));
        assertEquals(ReturnCode.DECLINED, stage.join().code());
        assertEquals(Optional.of("mx"), result());
    }

    @Test
    void theNullSenderPassesWithoutLookups() {
        HookResult answer = plugin().onMail(ctx.mail("<>"));
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertTrue(answer.pending().isEmpty());
        assertEquals(Optional.of("null"), result());
        assertEquals(List.of("INFO pass, null sender"), ctx.logged());
        assertEquals(List.of(), dns.asked());
    }

    @Test
    void aSenderWithoutDomainIsRefusedWithoutLookups() {
        HookResult answer = plugin().onMail(ctx.mail("<postmaster>"));
        assertRefused(answer, ReturnCode.DENYSOFT, "4.1.8", FQDN_REQUIRED);
        assertEquals(Optional.of("unparsable host"), result());
        assertEquals(-2, karma());
        assertEquals(List.of(), dns.asked());
    }

    @ParameterizedTest
    @CsvSource({"<a@[192.0.2.1]>,[192.0.2.1]", "<a@[IPv6:2001:db8::1]>,[IPv6:2001:db8::1]"})
    void anAddressLiteralIsSkippedAndCostsKarma(String sender, String host) {
        HookResult answer = plugin().onMail(ctx.mail(sender));
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertTrue(answer.pending().isEmpty());
        assertEquals(Optional.of("ip"), result());
        assertTrue(ctx.logged().contains("INFO skip, " + host + " is an IP"), ctx.logged().toString());
        assertEquals(-1, karma());
        assertEquals(List.of(), dns.asked());
    }

    @Test
    void anAuthenticatedClientIsImmune() {
        ctx.session().authenticated("alice");
        assertImmune("INFO skip, relay client");
    }

    @Test
    void aWhitelistedHostIsImmune() {
        ctx.session().notes().put(SharedNotes.WHITELIST_HOST, true);
        assertImmune("INFO skip, whitelisted host");
    }

    @Test
    void aWhitelistedSenderIsImmune() {
        ctx.transaction().notes().put(SharedNotes.WHITELIST_SENDER, true);
        assertImmune("INFO skip, whitelisted sender");
    }

    private void assertImmune(String logged) {
        HookResult answer = plugin().onMail(ctx.mail("<a@nxdomain.test>"));
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertTrue(answer.pending().isEmpty());
        assertEquals(Optional.of("whitelist"), result());
        assertEquals(List.of(logged), ctx.logged());
        assertEquals(List.of(), dns.asked());
    }

    @Test
    void rejectZeroOnlyLogsAndNotes() {
        dns.withMx("dangling.test", 10, "gone.dangling.test");
        HookResult answer = answer(new ResolvableFromhost(config("0", "soft"), dns), ctx, "<a@dangling.test>");
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertEquals(Optional.of("invalid MX for dangling.test"), result());
        assertEquals(-2, karma());
        assertTrue(ctx.logged().contains("INFO fail, tolerated, invalid MX for dangling.test"), ctx.logged().toString());
    }

    @Test
    void rejectNaughtyLeavesTheRefusalToTheNaughtyPlugin() {
        dns.withMx("dangling.test", 10, "gone.dangling.test");
        HookResult answer = answer(new ResolvableFromhost(config("naughty", "perm"), dns), ctx, "<a@dangling.test>");
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertEquals(Optional.of(FQDN_REQUIRED), ctx.session().notes().get(SharedNotes.NAUGHTY));
        assertEquals(Optional.of("perm"), ctx.session().notes().get(SharedNotes.NAUGHTY_REJECT_TYPE));
    }

    @Test
    void rejectNaughtyDefersADnsFailureAsATemporaryOne() {
        dns.failing("slow.test");
        HookResult answer = answer(new ResolvableFromhost(config("naughty", "perm"), dns), ctx, "<a@slow.test>");
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertEquals(Optional.of(NOT_RESOLVED), ctx.session().notes().get(SharedNotes.NAUGHTY));
        assertEquals(Optional.of("soft"), ctx.session().notes().get(SharedNotes.NAUGHTY_REJECT_TYPE));
    }

    @ParameterizedTest
    @CsvSource({"soft,DENYSOFT,4.1.8", "temp,DENYSOFT,4.1.8", "perm,DENY,5.1.8", "hard,DENY,5.1.8",
        "disconnect,DENY_DISCONNECT,5.1.8", "temp_disconnect,DENYSOFT_DISCONNECT,4.1.8", "'',DENYSOFT,4.1.8"})
    void theRejectTypeChoosesTheRefusal(String rejectType, ReturnCode code, String status) {
        dns.withA("loopback.test", "127.0.0.1");
        HookResult answer = answer(new ResolvableFromhost(config("1", rejectType), dns), ctx, "<a@loopback.test>");
        assertRefused(answer, code, status, FQDN_REQUIRED);
    }

    @Test
    void aNewConfigurationAppliesToTheNextSender() {
        dns.withA("loopback.test", "127.0.0.1");
        ResolvableFromhost plugin = plugin();
        assertEquals(ReturnCode.DENYSOFT, answer(plugin, ctx, "<a@loopback.test>").code());
        plugin.configure(config("1", "perm"));
        assertEquals(ReturnCode.DENY, answer(plugin, ctx, "<a@loopback.test>").code());
    }

    @Test
    void theConfigItemReplacesQpsmtpdsDefaultNetworks() {
        dns.withA("loopback.test", "127.0.0.1").withA("docs.test", "192.0.2.9").withAaaa("ula.test", "fd00::1");
        ctx.withConfig(ResolvableFromhost.INVALID_NETWORKS_ITEM, "192.0.2.0/24 documentation", "# a comment", "fc00::/7");
        ResolvableFromhost plugin = plugin();
        assertEquals(ReturnCode.DECLINED, answer(plugin, ctx, "<a@loopback.test>").code());
        assertEquals(ReturnCode.DENYSOFT, answer(plugin, ctx, "<a@docs.test>").code());
        assertEquals(ReturnCode.DENYSOFT, answer(plugin, ctx, "<a@ula.test>").code());
    }

    @Test
    void unusableEntriesAreReportedOnceAndIgnored() {
        dns.withA("loopback.test", "127.0.0.1");
        ctx.withConfig(ResolvableFromhost.INVALID_NETWORKS_ITEM, "none");
        ResolvableFromhost plugin = plugin();
        assertEquals(ReturnCode.DECLINED, answer(plugin, ctx, "<a@loopback.test>").code());
        assertEquals(ReturnCode.DECLINED, answer(plugin, ctx, "<a@loopback.test>").code());
        assertEquals(1, ctx.logged().stream()
                .filter(line -> line.equals("WARN config item invalid_resolvable_fromhost: 'none' is not a network; ignored")).count());
    }

    @Test
    void theConfigurationKeysAreQpsmtpdsOptionNamesAndNoConfigurationIsNeeded() throws Exception {
        String descriptor;
        try (var in = getClass().getResourceAsStream("/OSGI-INF/" + ResolvableFromhost.class.getName() + ".xml")) {
            descriptor = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        assertTrue(descriptor.contains("<property name=\"reject_type\" type=\"String\" value=\"soft\"/>"), descriptor);
        assertTrue(descriptor.contains("<property name=\"reject\" type=\"String\" value=\"1\"/>"), descriptor);
        assertTrue(descriptor.contains("configuration-policy=\"optional\""), descriptor);
        assertTrue(descriptor.contains("configuration-pid=\"org.postern.smtp.plugin.resolvable_fromhost\""), descriptor);
    }

    @Test
    void networksMatchByPrefixWhateverTheHostBitsOfTheEntry() throws Exception {
        Network tens = Network.parse("10.1.2.3/8").orElseThrow();
        assertTrue(tens.contains(InetAddress.getByName("10.200.0.1")));
        assertFalse(tens.contains(InetAddress.getByName("11.0.0.1")));
        assertFalse(tens.contains(InetAddress.getByName("::a00:1")), "an IPv6 address is never in an IPv4 network");
        Network single = Network.parse("192.0.2.1").orElseThrow();
        assertTrue(single.contains(InetAddress.getByName("192.0.2.1")));
        assertFalse(single.contains(InetAddress.getByName("192.0.2.2")));
        Network halfByte = Network.parse("2001:db8::/33").orElseThrow();
        assertTrue(halfByte.contains(InetAddress.getByName("2001:db8:7fff::1")));
        assertFalse(halfByte.contains(InetAddress.getByName("2001:db8:8000::1")));
        assertTrue(Network.parse("0.0.0.0/0").orElseThrow().contains(InetAddress.getByName("203.0.113.1")));
        for (String bad : List.of("10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "256.0.0.0/8", "10.0.0/8", "example.org", "::1/129")) {
            assertTrue(Network.parse(bad).isEmpty(), bad);
        }
    }

    @Test
    void onlyIpLiteralsAreReadAsAddresses() {
        assertEquals(Optional.of("192.0.2.1"), Network.literal("192.0.2.1").map(InetAddress::getHostAddress));
        assertEquals(Optional.of("2001:db8:0:0:0:0:0:1"), Network.literal("2001:db8::1").map(InetAddress::getHostAddress));
        for (String name : List.of("999.1.1.1", "mx.example.org", "1.2.3", "abc", "g::1", "1:2")) {
            assertEquals(Optional.empty(), Network.literal(name), name);
        }
    }
}
