package org.postern.smtp.plugin.relay.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

/** Which clients relay is marked as relay clients at connect, and what it answers at RCPT with and without only. */
class RelayTest {
    private final TestContext ctx = new TestContext();

    private static Relay relay(Map<String, String> options) {
        return new Relay(TestConfig.of(Relay.Config.class, options));
    }

    private Optional<Boolean> connectFrom(String ip) {
        ctx.session().remote(ip, 40000);
        assertEquals(ReturnCode.DECLINED, relay(Map.of()).onConnect(ctx).code(), "relay never refuses at connect");
        return ctx.session().notes().get(SharedNotes.RELAY_CLIENT);
    }

    @Test
    void aClientInARelayclientsNetMaskIsARelayClient() {
        ctx.withConfig("relayclients", "192.0.2.0/24");
        assertEquals(Optional.of(true), connectFrom("192.0.2.9"));
        assertTrue(ctx.logged().contains("INFO pass, 192.0.2.9 in relayclients (192.0.2.0/24)"), ctx.logged().toString());
        assertTrue(PluginConventions.isImmune(ctx), "the immune-aware plugins skip it");
    }

    @Test
    void aClientInAPartialRelayclientsEntryIsARelayClient() {
        ctx.withConfig("relayclients", "198.51.100.7", "192.168.");
        assertEquals(Optional.of(true), connectFrom("192.168.5.6"));
    }

    @Test
    void aClientInMorerelayclientsIsARelayClient() {
        ctx.withConfig("relayclients", "10.").withConfig("morerelayclients", "203.0.113.5");
        assertEquals(Optional.of(true), connectFrom("203.0.113.5"));
        assertTrue(ctx.logged().contains("INFO pass, 203.0.113.5 in morerelayclients (203.0.113.5)"), ctx.logged().toString());
    }

    @Test
    void aClientListedNowhereIsNoRelayClient() {
        ctx.withConfig("relayclients", "10.0.0.0/8").withConfig("morerelayclients", "192.0.2.2");
        assertEquals(Optional.empty(), connectFrom("192.0.2.1"));
        assertEquals(List.of("INFO skip, no match"), ctx.logged());
    }

    @Test
    void norelayclientsOverridesTheRelayLists() {
        ctx.withConfig("relayclients", "192.0.2.0/24").withConfig("morerelayclients", "192.0.2.12")
                .withConfig("norelayclients", "192.0.2.12");
        assertEquals(Optional.of(false), connectFrom("192.0.2.12"));
        assertTrue(ctx.logged().contains("INFO fail, disabled by norelayclients (192.0.2.12 in 192.0.2.12)"), ctx.logged().toString());
        assertFalse(PluginConventions.isImmune(ctx), "a client in norelayclients is not immune");
    }

    @Test
    void aPartialNorelayclientsEntryExcludesItsNetwork() {
        ctx.withConfig("relayclients", "192.0.2.").withConfig("norelayclients", "192.0.2.");
        assertEquals(Optional.of(false), connectFrom("192.0.2.77"));
    }

    @Test
    void ipv6LocalhostRelaysWithoutAnEntryAsInQpsmtpd() {
        assertEquals(Optional.of(true), connectFrom("::1"));
        assertTrue(ctx.logged().contains("INFO pass, octet matched localhost (0:0:0:0:0:0:0:1)"), ctx.logged().toString());
    }

    @Test
    void ipv6LocalhostInNorelayclientsDoesNotRelay() {
        ctx.withConfig("norelayclients", "::1");
        assertEquals(Optional.of(false), connectFrom("::1"));
    }

    @Test
    void ipv4LocalhostNeedsAnEntry() {
        assertEquals(Optional.empty(), connectFrom("127.0.0.1"));
    }

    @Test
    void ipv6ClientsMatchIpv6Entries() {
        ctx.withConfig("relayclients", "2001:db8:e431:ae06:");
        assertEquals(Optional.of(true), connectFrom("2001:db8:e431:ae06::25"));
    }

    @Test
    void anUnusableEntryIsLoggedAndTheOthersStillCount() {
        ctx.withConfig("relayclients", "192.0.2", "", " 192.0.2.0/24 ");
        assertEquals(Optional.of(true), connectFrom("192.0.2.3"));
        assertTrue(ctx.logged().contains("WARN config item relayclients: '192.0.2' is neither an address, a partial address "
                + "ending in . or : nor a net/mask; ignored"), ctx.logged().toString());
    }

    @Test
    void withoutOnlyTheRcptHookLeavesEveryRecipientToTheOthers() {
        assertEquals(ReturnCode.DECLINED, relay(Map.of()).onRcpt(ctx.rcpt("<a@elsewhere.example>")).code());
        ctx.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        assertEquals(ReturnCode.DECLINED, relay(Map.of()).onRcpt(ctx.rcpt("<a@elsewhere.example>")).code());
    }

    @Test
    void relayOnlyAcceptsTheRecipientsOfARelayClient() {
        ctx.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        assertEquals(ReturnCode.OK, relay(Map.of("only", "1")).onRcpt(ctx.rcpt("<a@elsewhere.example>")).code());
    }

    @Test
    void relayOnlyAcceptsTheRecipientsOfAnAuthenticatedClient() {
        ctx.session().authenticated("alice@example.org");
        assertEquals(ReturnCode.OK, relay(Map.of("only", "1")).onRcpt(ctx.rcpt("<a@elsewhere.example>")).code());
    }

    /** With no text, the core gives qpsmtpd's rcpt default: 550 relaying denied. */
    @Test
    void relayOnlyRefusesEveryOtherClient() {
        ctx.session().notes().put(SharedNotes.RELAY_CLIENT, false);
        HookResult answer = relay(Map.of("only", "1")).onRcpt(ctx.rcpt("<postmaster@example.org>"));
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(List.of(), answer.message());
        assertTrue(ctx.logged().contains("INFO fail, relay only"), ctx.logged().toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "yes", "true", "on", "2"})
    void onlyIsOnForAnyTrueValue(String only) {
        assertEquals(ReturnCode.DENY, relay(Map.of("only", only)).onRcpt(ctx.rcpt("<a@elsewhere.example>")).code());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "", "false", "FALSE", "no", "off"})
    void onlyIsOffForZeroAndTheUsualFalseWords(String only) {
        assertEquals(ReturnCode.DECLINED, relay(Map.of("only", only)).onRcpt(ctx.rcpt("<a@elsewhere.example>")).code());
    }
}
