package org.postern.smtp.plugin.dnsbl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;
import org.postern.smtp.testkit.TestResolver;

/** dnsbl's decisions, on a resolver answering from records the test gives; DnsblIT asks a real DNS server. */
class DnsblTest {
    private final TestResolver dns = new TestResolver();
    private final TestContext ctx = new TestContext();

    private HookResult connect(Map<String, String> options) {
        HookResult answer = new Dnsbl(config(options), dns).onConnect(ctx);
        return HookResults.settled(answer);
    }

    private HookResult connect() {
        return connect(Map.of());
    }

    @Test
    void aListedClientIsRefusedWithTheZonesTxtRecordAndLosesKarma() {
        ctx.session().remote("192.0.2.1", 4000);
        ctx.withConfig("dnsbl_zones", "clean.test", "bl.test");
        dns.withA("1.2.0.192.bl.test", "127.0.0.2").withTxt("1.2.0.192.bl.test", "Listed, see https://bl.test/192.0.2.1");
        HookResult answer = connect();
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(List.of("Listed, see https://bl.test/192.0.2.1"), answer.message());
        assertEquals(-1, ctx.session().notes().get(SharedNotes.KARMA).orElseThrow());
        assertEquals(List.of("A 1.2.0.192.clean.test", "A 1.2.0.192.bl.test", "TXT 1.2.0.192.bl.test"), dns.asked());
    }

    @Test
    void aZonesOwnMessageNamesTheClientAndAZoneWithoutTxtNamesItself() {
        ctx.withConfig("dnsbl_zones", "own.test:You are listed, see https://own.test/q?%IP%", "plain.test");
        dns.withA("1.2.0.192.own.test", "127.0.0.2");
        assertEquals(List.of("You are listed, see https://own.test/q?192.0.2.1"), connect().message());
        ctx.withConfig("dnsbl_zones", "plain.test");
        dns.withA("1.2.0.192.plain.test", "127.0.0.3");
        assertEquals(List.of("Blocked by plain.test"), connect().message());
    }

    @Test
    void errorCodesAndLoopbackAnswersAreNotListingsAndAreWarnedAboutOnce() {
        ctx.withConfig("dnsbl_zones", "spamhaus.test");
        dns.withA("1.2.0.192.spamhaus.test", "127.255.255.254", "127.0.0.1");
        Dnsbl dnsbl = new Dnsbl(config(Map.of()), dns);
        for (int client = 0; client < 2; client++) {
            assertEquals(ReturnCode.DECLINED, dnsbl.onConnect(ctx).pending().orElseThrow().toCompletableFuture().join().code());
        }
        assertEquals(1, ctx.logged().stream().filter(line -> line.contains("error code")).count(), ctx.logged().toString());
    }

    @Test
    void aZonesAcceptedAnswersAreTheOnlyListings() {
        ctx.withConfig("dnsbl_zones", "zen.test=127.0.0.4-127.0.0.7,127.0.0.10");
        dns.withA("1.2.0.192.zen.test", "127.0.0.2");
        assertEquals(ReturnCode.DECLINED, connect().code());
        dns.withA("1.2.0.192.zen.test", "127.0.0.10");
        assertEquals(ReturnCode.DENY, new Dnsbl(config(Map.of()), new TestResolver().withA("1.2.0.192.zen.test", "127.0.0.10"))
                .onConnect(ctx).pending().orElseThrow().toCompletableFuture().join().code());
    }

    @Test
    void aDnsFailurePassesTheClient() {
        ctx.withConfig("dnsbl_zones", "slow.test");
        dns.failing("1.2.0.192.slow.test");
        assertEquals(ReturnCode.DECLINED, connect().code());
        assertTrue(ctx.logged().stream().anyMatch(line -> line.contains("slow.test query failed")), ctx.logged().toString());
    }

    @Test
    void allowedAndImmuneClientsAreNotLookedUp() {
        ctx.withConfig("dnsbl_zones", "bl.test").withConfig("dnsbl_allow", "10.1.", "192.0.2.1");
        assertEquals(ReturnCode.DECLINED, connect().code());
        ctx.withConfig("dnsbl_allow", "192.0.2.10");
        ctx.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        assertEquals(ReturnCode.DECLINED, connect().code());
        assertEquals(List.of(), dns.asked());
        assertTrue(Dnsbl.allowed(address("172.16.33.9"), List.of("172.16.33.")));
        assertFalse(Dnsbl.allowed(address("172.16.33.9"), List.of("172.16.3")), "a prefix matches whole octets");
    }

    @Test
    void rejectOptionsAreQpsmtpds() {
        ctx.withConfig("dnsbl_zones", "bl.test");
        dns.withA("1.2.0.192.bl.test", "127.0.0.2");
        assertEquals(ReturnCode.DENYSOFT, connect(Map.of("reject_type", "temp")).code());
        assertEquals(ReturnCode.DECLINED, connect(Map.of("reject", "0")).code());
        assertEquals(ReturnCode.DECLINED, connect(Map.of("reject", "naughty")).code());
        assertEquals("Blocked by bl.test", ctx.session().notes().get(SharedNotes.NAUGHTY).orElseThrow());
        new Dnsbl(config(Map.of()), dns).onRcpt(ctx.rcpt("<Postmaster@example.org>"));
        assertTrue(ctx.session().notes().get(SharedNotes.NAUGHTY).isEmpty(), "a listed client may still reach the postmaster");
    }

    @Test
    void anIpv6ClientIsAskedByNibbles() {
        ctx.session().remote("2001:db8::1", 4000);
        ctx.withConfig("dnsbl_zones", "bl6.test");
        connect();
        assertEquals(List.of("A 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl6.test"), dns.asked());
    }

    @Test
    void zoneLinesAreQpsmtpdsWithOptionalAnswers() {
        Zone zone = Zone.parse("zen.test.=127.0.0.2,127.0.0.4-127.0.0.7:Listed: see http://zen.test/%IP%");
        assertEquals("zen.test", zone.name());
        assertEquals("Listed: see http://zen.test/%IP%", zone.message());
        assertTrue(zone.means(address("127.0.0.5")));
        assertFalse(zone.means(address("127.0.0.3")));
        assertThrows(IllegalArgumentException.class, () -> Zone.parse("bad zone"));
        assertThrows(IllegalArgumentException.class, () -> Zone.parse("z.test=127.0.0.9-127.0.0.2"));
        assertThrows(IllegalArgumentException.class, () -> Zone.parse("z.test=localhost"));
    }

    private static InetAddress address(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static Dnsbl.Config config(Map<String, String> values) {
        return TestConfig.of(Dnsbl.Config.class, values);
    }
}
