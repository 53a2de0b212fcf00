package org.postern.smtp.plugin.hostsallow.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.PreConnectionContext;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class HostsAllowTest {
    /** A pre_connection context: the test kit's context with connection counts. */
    private static final class PreConnection extends TestContext implements PreConnectionContext {
        private int fromRemoteIp = 1;

        PreConnection from(String ip) {
            session().remote(ip, 40000);
            return this;
        }

        PreConnection connectionsFromRemoteIp(int count) {
            fromRemoteIp = count;
            return this;
        }

        @Override
        public int connectionsFromRemoteIp() {
            return fromRemoteIp;
        }

        @Override
        public int connections() {
            return fromRemoteIp;
        }
    }

    private final PreConnection ctx = new PreConnection();

    private static HostsAllow plugin(int maxConnIp) {
        return new HostsAllow(TestConfig.of(HostsAllow.Config.class, Map.of("max_conn_ip", maxConnIp)));
    }

    private HookResult answerFor(String ip, String... hostsAllow) {
        ctx.from(ip).withConfig("hosts_allow", hostsAllow);
        return plugin(5).onPreConnection(ctx);
    }

    @Test
    void aClientWithoutAnEntryPasses() {
        assertEquals(ReturnCode.DECLINED, answerFor("192.0.2.1").code());
        assertEquals(ReturnCode.DECLINED, answerFor("192.0.2.1", "198.51.100.7 DENY Go away").code());
        assertTrue(ctx.logged().contains("DEBUG pass"), ctx.logged().toString());
    }

    @Test
    void anEntryAnswersWithItsReturnCodeAndMessage() {
        HookResult answer = answerFor("192.0.2.1", "192.0.2.1 DENY Known spam only source");
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(List.of("Known spam only source"), answer.message());
        assertTrue(ctx.logged().contains("INFO fail, DENY, Known spam only source"), ctx.logged().toString());
    }

    @Test
    void anEntryWithoutAMessageLeavesTheTextToTheCore() {
        HookResult answer = answerFor("192.0.2.1", "192.0.2.1 DENYSOFT");
        assertEquals(ReturnCode.DENYSOFT, answer.code());
        assertEquals(List.of(), answer.message());
    }

    @Test
    void aNetworkMatchesEveryAddressInIt() {
        String[] list = {"192.168.3.0/24 DENY Sorry known spam only source"};
        assertEquals(ReturnCode.DENY, answerFor("192.168.3.200", list).code());
        assertEquals(ReturnCode.DECLINED, answerFor("192.168.4.1", list).code());
        assertEquals(ReturnCode.DENY, answerFor("10.9.8.7", "10.0.0.0/8 DENY").code());
        assertEquals(ReturnCode.DECLINED, answerFor("10.9.8.7", "10.0.0.0/16 DENY").code());
        assertEquals(ReturnCode.DENY, answerFor("203.0.113.9", "0.0.0.0/0 DENY Nobody").code());
        assertEquals(ReturnCode.DENY, answerFor("192.0.2.130", "192.0.2.128/25 DENY").code());
        assertEquals(ReturnCode.DECLINED, answerFor("192.0.2.127", "192.0.2.128/25 DENY").code());
    }

    @Test
    void theFirstMatchingEntryWinsSoAnEarlierDeclinedExemptsAnAddress() {
        String[] list = {"192.168.3.4    DECLINED", "192.168.3.0/24 DENY Sorry known spam only source"};
        assertEquals(ReturnCode.DECLINED, answerFor("192.168.3.4", list).code());
        assertTrue(ctx.logged().contains("DEBUG pass, DECLINED"), ctx.logged().toString());
        assertEquals(ReturnCode.DENY, answerFor("192.168.3.5", list).code());
    }

    @Test
    void everyReturnCodeNameIsKnownInAnyCaseAndDenyhardIsDenyDisconnect() {
        assertEquals(ReturnCode.OK, answerFor("192.0.2.1", "192.0.2.1 OK").code());
        assertEquals(ReturnCode.DONE, answerFor("192.0.2.1", "192.0.2.1 DONE").code());
        assertEquals(ReturnCode.DENY_DISCONNECT, answerFor("192.0.2.1", "192.0.2.1 DENY_DISCONNECT bye").code());
        assertEquals(ReturnCode.DENYSOFT_DISCONNECT, answerFor("192.0.2.1", "192.0.2.1 DENYSOFT_DISCONNECT later").code());
        assertEquals(ReturnCode.DENY_DISCONNECT, answerFor("192.0.2.1", "192.0.2.1 DENYHARD").code());
        assertEquals(ReturnCode.DENY, answerFor("192.0.2.1", "192.0.2.1 deny").code());
    }

    @Test
    void anUnknownReturnCodeIsDeclinedAndStillEndsTheSearch() {
        HookResult answer = answerFor("192.0.2.1", "192.0.2.1 REFUSE", "192.0.2.0/24 DENY");
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertTrue(ctx.logged().contains("WARN config item hosts_allow: 'REFUSE' is no return code; DECLINED: 192.0.2.1 REFUSE"),
                ctx.logged().toString());
    }

    @Test
    void linesWithoutAReturnCodeAreSkipped() {
        assertEquals(ReturnCode.DENY, answerFor("192.0.2.1", "192.0.2.1", "  192.0.2.1 DENY").code());
    }

    @Test
    void entriesThatAreNoAddressOrNetworkAreReportedAndSkippedWithoutADnsLookup() {
        String[] list = {"mail.example.org DENY", "999.1.1.1 DENY", "192.0.2.1/33 DENY", "192.0.2.1/x DENY", ".:1 DENY",
            "192.0.2.1/32 DENY Only this one"};
        HookResult answer = answerFor("192.0.2.1", list);
        assertEquals(List.of("Only this one"), answer.message());
        assertEquals(5, ctx.logged().stream().filter(line -> line.startsWith("WARN config item hosts_allow: ")).count(), ctx.logged().toString());
    }

    @Test
    void aListThatDidNotChangeIsReportedOnce() {
        HostsAllow plugin = plugin(5);
        ctx.withConfig("hosts_allow", "bogus DENY");
        plugin.onPreConnection(ctx);
        plugin.onPreConnection(ctx);
        assertEquals(1, ctx.logged().stream().filter(line -> line.startsWith("WARN")).count(), ctx.logged().toString());
    }

    @Test
    void ipv6AddressesAndNetworksMatch() {
        String[] list = {"2001:db8::1 DECLINED", "2001:db8::/32 DENY No IPv6 documentation hosts"};
        assertEquals(ReturnCode.DECLINED, answerFor("2001:db8::1", list).code());
        assertEquals(ReturnCode.DENY, answerFor("2001:db8:1::25", list).code());
        assertEquals(ReturnCode.DECLINED, answerFor("2001:db9::25", list).code());
        assertEquals(ReturnCode.DECLINED, answerFor("192.0.2.1", "::/0 DENY").code(), "an IPv6 network holds no IPv4 client");
    }

    @Test
    void tooManyConnectionsFromOneAddressAreRefusedTemporarily() {
        ctx.from("192.0.2.1").connectionsFromRemoteIp(6);
        HookResult answer = plugin(5).onPreConnection(ctx);
        assertEquals(ReturnCode.DENYSOFT, answer.code());
        assertEquals(List.of("too many connections from 192.0.2.1, try again later"), answer.message());
        assertTrue(ctx.logged().contains("INFO fail: too many connections from 192.0.2.1 (6 > 5)"), ctx.logged().toString());
        assertEquals(ReturnCode.DECLINED, plugin(5).onPreConnection(ctx.connectionsFromRemoteIp(5)).code());
    }

    @Test
    void theConnectionLimitComesBeforeTheList() {
        ctx.from("192.0.2.1").connectionsFromRemoteIp(2).withConfig("hosts_allow", "192.0.2.1 OK");
        assertEquals(ReturnCode.DENYSOFT, plugin(1).onPreConnection(ctx).code());
    }

    @Test
    void maxConnIpZeroLeavesTheLimitToTheCore() {
        ctx.from("192.0.2.1").connectionsFromRemoteIp(1000);
        assertEquals(ReturnCode.DECLINED, plugin(0).onPreConnection(ctx).code());
        assertEquals(ReturnCode.DECLINED, plugin(-1).onPreConnection(ctx).code());
    }

    @Test
    void karmaHistoryRaisesOrLowersTheLimit() {
        ctx.from("192.0.2.1").connectionsFromRemoteIp(8).session().notes().put(SharedNotes.KARMA_HISTORY, 6);
        assertEquals(ReturnCode.DECLINED, plugin(5).onPreConnection(ctx).code());
        assertEquals(ReturnCode.DENYSOFT, plugin(5).onPreConnection(ctx.connectionsFromRemoteIp(9)).code());
        ctx.connectionsFromRemoteIp(2).session().notes().put(SharedNotes.KARMA_HISTORY, 0);
        assertEquals(ReturnCode.DENYSOFT, plugin(5).onPreConnection(ctx).code());
        assertTrue(ctx.logged().contains("INFO connect limit 1, karma 0"), ctx.logged().toString());
        ctx.connectionsFromRemoteIp(5).session().notes().put(SharedNotes.KARMA_HISTORY, 5);
        assertEquals(ReturnCode.DECLINED, plugin(5).onPreConnection(ctx).code());
        assertEquals(ReturnCode.DENYSOFT, plugin(5).onPreConnection(ctx.connectionsFromRemoteIp(6)).code());
    }
}
