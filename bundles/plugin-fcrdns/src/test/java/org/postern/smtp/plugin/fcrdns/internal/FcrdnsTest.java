package org.postern.smtp.plugin.fcrdns.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.dns.DnsFailure;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;
import org.postern.smtp.testkit.TestResolver;

class FcrdnsTest {
    /** Declared as another plugin would, to read the note without importing this one. */
    private static final NoteKey<String> FCRDNS = NoteKey.of("fcrdns", String.class);
    private static final String REFUSAL = "No forward-confirmed reverse DNS for 192.0.2.1";

    private final TestContext ctx = new TestContext();
    private final TestResolver dns = new TestResolver();

    private static Fcrdns.Config config(String reject, String rejectType, int timeout) {
        return TestConfig.of(Fcrdns.Config.class, Map.of("reject", reject, "reject_type", rejectType, "timeout", timeout));
    }

    private Fcrdns plugin(String reject, String rejectType) {
        return new Fcrdns(dns, config(reject, rejectType, 5));
    }

    private HookResult connect(Fcrdns plugin) throws Exception {
        return HookResults.settled(plugin.onConnect(ctx));
    }

    private Optional<String> note() {
        return ctx.session().notes().get(FCRDNS);
    }

    private Optional<Integer> karma() {
        return ctx.session().notes().get(SharedNotes.KARMA);
    }

    private Optional<String> authResults() {
        return ctx.session().notes().get(SharedNotes.AUTHENTICATION_RESULTS);
    }

    @Test
    void aPtrNameThatLeadsBackToTheAddressPassesAndEarnsKarma() throws Exception {
        dns.withPtr("192.0.2.1", "mx.example.org").withA("mx.example.org", "192.0.2.1");
        ctx.session().remoteHost("mx.example.org");
        HookResult first = plugin("1", "perm").onConnect(ctx);
        assertTrue(first.pending().isPresent(), "the DNS answer is waited for without a thread");
        assertEquals(ReturnCode.DECLINED, HookResults.settled(first).code());
        assertEquals(Optional.of("pass"), note());
        assertEquals(Optional.of(1), karma());
        assertEquals(Optional.of("iprev=pass policy.iprev=192.0.2.1"), authResults());
        assertEquals(List.of("PTR 192.0.2.1", "A mx.example.org", "AAAA mx.example.org"), dns.asked());
        assertTrue(ctx.logged().contains("INFO pass, forward ip match: mx.example.org"), ctx.logged().toString());
    }

    @Test
    void anAddressInTheSameSlash24PassesWithoutKarma() throws Exception {
        dns.withPtr("192.0.2.1", "mx1.example.org").withA("mx1.example.org", "192.0.2.77");
        assertEquals(ReturnCode.DECLINED, connect(plugin("1", "perm")).code());
        assertEquals(Optional.of("pass"), note());
        assertEquals(Optional.empty(), karma());
        assertEquals(Optional.of("iprev=pass policy.iprev=192.0.2.1"), authResults());
    }

    @Test
    void forwardDnsThatLeadsElsewhereIsAnIprevFailButNeverRefused() throws Exception {
        dns.withPtr("192.0.2.1", "mx.example.org").withA("mx.example.org", "198.51.100.7");
        assertEquals(ReturnCode.DECLINED, connect(plugin("1", "perm")).code());
        assertEquals(Optional.of("fail"), note());
        assertEquals(Optional.empty(), karma());
        assertEquals(Optional.of("iprev=fail policy.iprev=192.0.2.1"), authResults());
    }

    @Test
    void aPtrNameWithoutAddressesFailsAndIsToleratedByDefault() throws Exception {
        dns.withPtr("192.0.2.1", "gone.example.org");
        assertEquals(ReturnCode.DECLINED, connect(plugin("0", "temp")).code());
        assertEquals(Optional.of("fail"), note());
        assertEquals(Optional.of(-1), karma());
        assertEquals(Optional.of("iprev=fail policy.iprev=192.0.2.1"), authResults());
        assertTrue(ctx.logged().contains("INFO fail, tolerated, no PTR hosts have forward DNS: gone.example.org"),
                ctx.logged().toString());
    }

    @Test
    void aPtrNameWithoutAddressesIsRefusedWhenRejectIsOn() throws Exception {
        dns.withPtr("192.0.2.1", "gone.example.org");
        HookResult result = connect(plugin("1", "perm"));
        assertEquals(ReturnCode.DENY, result.code());
        assertEquals(List.of(REFUSAL), result.message());
    }

    @Test
    void anAddressWithoutPtrIsAPermerrorAndRefusedAsTempByDefault() throws Exception {
        HookResult result = connect(plugin("1", "temp"));
        assertEquals(ReturnCode.DENYSOFT, result.code());
        assertEquals(List.of(REFUSAL), result.message());
        assertEquals(Optional.of("permerror"), note());
        assertEquals(Optional.of(-1), karma());
        assertEquals(Optional.of("iprev=permerror policy.iprev=192.0.2.1"), authResults());
        assertEquals(List.of("PTR 192.0.2.1"), dns.asked());
    }

    @Test
    void anIpv6ClientIsConfirmedByItsAaaaRecordOrItsSlash64() throws Exception {
        ctx.session().remote("2001:db8::25", 40000);
        dns.withPtr("2001:db8::25", "mx6.example.org").withAaaa("mx6.example.org", "2001:db8::25");
        assertEquals(ReturnCode.DECLINED, connect(plugin("1", "perm")).code());
        assertEquals(Optional.of("pass"), note());
        assertEquals(Optional.of(1), karma());

        TestContext neighbour = new TestContext();
        neighbour.session().remote("2001:db8::26", 40000);
        dns.withPtr("2001:db8::26", "mx6.example.org");
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin("1", "perm").onConnect(neighbour)).code());
        assertEquals(Optional.of("pass"), neighbour.session().notes().get(FCRDNS));
        assertEquals(Optional.empty(), neighbour.session().notes().get(SharedNotes.KARMA));
    }

    @Test
    void anIpv6ClientOutsideTheSlash64OfItsNameIsNotConfirmed() throws Exception {
        ctx.session().remote("2001:db8:1::25", 40000);
        dns.withPtr("2001:db8:1::25", "mx6.example.org").withAaaa("mx6.example.org", "2001:db8:2::25");
        assertEquals(ReturnCode.DECLINED, connect(plugin("1", "perm")).code());
        assertEquals(Optional.of("fail"), note());

        TestContext unnamed = new TestContext();
        unnamed.session().remote("2001:db8:3::25", 40000);
        HookResult refused = HookResults.settled(plugin("1", "perm").onConnect(unnamed));
        assertEquals(ReturnCode.DENY, refused.code());
        assertEquals(List.of("No forward-confirmed reverse DNS for " + InetAddress.getByName("2001:db8:3::25").getHostAddress()),
                refused.message());
        assertEquals(Optional.of("permerror"), unnamed.session().notes().get(FCRDNS));
    }

    @Test
    void aPtrLookupThatFailsIsATemperrorThatNeverRefuses() throws Exception {
        dns.failing("192.0.2.1");
        assertEquals(ReturnCode.DECLINED, connect(plugin("1", "disconnect")).code());
        assertEquals(Optional.of("temperror"), note());
        assertEquals(Optional.empty(), karma());
        assertEquals(Optional.of("iprev=temperror policy.iprev=192.0.2.1"), authResults());
        assertTrue(ctx.logged().stream().anyMatch(line -> line.startsWith("INFO fail, error getting rDNS: TIMEOUT")),
                ctx.logged().toString());
    }

    @Test
    void aForwardLookupThatFailsIsATemperrorUnlessAnotherNameConfirms() throws Exception {
        dns.withPtr("192.0.2.1", "a.example.org", "b.example.org").failing("a.example.org", DnsFailure.Kind.SERVER_FAILURE);
        assertEquals(ReturnCode.DECLINED, connect(plugin("1", "perm")).code());
        assertEquals(Optional.of("temperror"), note());
        assertEquals(Optional.empty(), karma());
        assertTrue(ctx.logged().stream().anyMatch(line -> line.startsWith("INFO fail, error getting forward DNS: SERVER_FAILURE")),
                ctx.logged().toString());

        dns.withA("b.example.org", "192.0.2.1");
        TestContext second = new TestContext();
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin("1", "perm").onConnect(second)).code());
        assertEquals(Optional.of("pass"), second.session().notes().get(FCRDNS));
    }

    @Test
    void dnsSlowerThanTheTimeoutIsATemperror() throws Exception {
        TestResolver silent = new TestResolver() {
            @Override
            public CompletionStage<List<String>> ptr(InetAddress address) {
                return new CompletableFuture<>();
            }
        };
        HookResult result = HookResults.settled(new Fcrdns(silent, config("1", "perm", 1)).onConnect(ctx));
        assertEquals(ReturnCode.DECLINED, result.code());
        assertEquals(Optional.of("temperror"), note());
        assertTrue(ctx.logged().contains("INFO fail, no DNS answer within 1 s"), ctx.logged().toString());
    }

    @ParameterizedTest
    @CsvSource({
        "localhost, not localhost",
        "mailhost, not FQDN",
        "mx_1.example.org, invalid FQDN chars",
    })
    void theCoresHostNameFailsCheaplyWithoutDns(String remoteHost, String reason) throws Exception {
        ctx.session().remoteHost(remoteHost);
        HookResult answer = plugin("1", "perm").onConnect(ctx);
        assertTrue(answer.pending().isEmpty());
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(Optional.of("fail"), note());
        assertEquals(Optional.of(-1), karma());
        assertEquals(List.of(), dns.asked());
        assertTrue(ctx.logged().contains("INFO fail, " + reason), ctx.logged().toString());
    }

    @Test
    void aLoopbackClientCalledLocalhostPassesWithoutDns() throws Exception {
        ctx.session().remote("127.0.0.1", 40000).remoteHost("localhost");
        assertEquals(ReturnCode.DECLINED, connect(plugin("1", "perm")).code());
        assertEquals(Optional.of("pass"), note());
        assertEquals(Optional.of(1), karma());
        assertEquals(List.of(), dns.asked());
    }

    @Test
    void immuneClientsAreNotChecked() throws Exception {
        TestContext authenticated = new TestContext();
        authenticated.session().authenticated("bob");
        TestContext relay = new TestContext();
        relay.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        TestContext whitelisted = new TestContext();
        whitelisted.session().notes().put(SharedNotes.WHITELIST_HOST, true);
        for (TestContext immune : List.of(authenticated, relay, whitelisted)) {
            assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin("1", "perm").onConnect(immune)).code());
            assertEquals(Optional.empty(), immune.session().notes().get(FCRDNS));
        }
        assertEquals(List.of(), dns.asked());
    }

    @Test
    void rejectNaughtyLeavesTheRefusalToTheNaughtyPlugin() throws Exception {
        assertEquals(ReturnCode.DECLINED, connect(plugin("naughty", "disconnect")).code());
        assertEquals(Optional.of(REFUSAL), ctx.session().notes().get(SharedNotes.NAUGHTY));
        assertEquals(Optional.of("disconnect"), ctx.session().notes().get(SharedNotes.NAUGHTY_REJECT_TYPE));
        assertEquals(Optional.of(-1), karma());
    }

    @ParameterizedTest
    @CsvSource({"temp, DENYSOFT", "perm, DENY", "disconnect, DENY_DISCONNECT", "temp_disconnect, DENYSOFT_DISCONNECT"})
    void rejectTypeChoosesTheRefusal(String rejectType, ReturnCode code) throws Exception {
        assertEquals(code, connect(plugin("1", rejectType)).code());
    }

    @Test
    void atMostTenPtrNamesAreFollowedEachOnce() throws Exception {
        dns.withPtr("192.0.2.1", "MX0.example.org.", "mx0.example.org", "mx1.example.org", "mx2.example.org",
                "mx3.example.org", "mx4.example.org", "mx5.example.org", "mx6.example.org", "mx7.example.org",
                "mx8.example.org", "mx9.example.org", "mx10.example.org");
        connect(plugin("0", "temp"));
        List<String> forward = dns.asked().stream().filter(lookup -> lookup.startsWith("A ")).toList();
        assertEquals(Fcrdns.MAX_PTR_NAMES, forward.size());
        assertEquals(forward.size(), forward.stream().distinct().count());
        assertFalse(forward.contains("A mx10.example.org"), forward.toString());
    }
}
