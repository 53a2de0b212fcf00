package org.postern.smtp.plugin.relay.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The three forms of a relayclients entry, and the addresses each covers. */
class ClientNetworkTest {

    private static boolean covers(String entry, String client) throws Exception {
        return ClientNetwork.parse(entry).orElseThrow(() -> new AssertionError("not parsed: " + entry))
                .contains(InetAddress.getByName(client));
    }

    @Test
    void aWholeAddressCoversItselfOnly() throws Exception {
        assertTrue(covers("192.0.2.7", "192.0.2.7"));
        assertFalse(covers("192.0.2.7", "192.0.2.70"));
        assertFalse(covers("192.0.2.7", "192.0.2.8"));
    }

    @Test
    void aPartialAddressEndingInADotCoversItsNetwork() throws Exception {
        assertTrue(covers("192.168.42.", "192.168.42.1"));
        assertTrue(covers("192.168.42.", "192.168.42.255"));
        assertFalse(covers("192.168.42.", "192.168.43.1"));
        assertTrue(covers("10.", "10.200.3.4"));
        assertFalse(covers("10.", "100.0.0.1"));
    }

    @Test
    void aNetMaskCoversItsFirstAndLastAddressToo() throws Exception {
        assertTrue(covers("10.1.0.0/24", "10.1.0.0"));
        assertTrue(covers("10.1.0.0/24", "10.1.0.128"));
        assertTrue(covers("10.1.0.0/24", "10.1.0.255"));
        assertFalse(covers("10.1.0.0/24", "10.1.1.0"));
        assertFalse(covers("10.1.0.0/24", "10.0.255.255"));
    }

    @Test
    void aSlash32CoversItsAddress() throws Exception {
        assertTrue(covers("192.0.2.30/32", "192.0.2.30"));
        assertFalse(covers("192.0.2.30/32", "192.0.2.31"));
    }

    @Test
    void masksNeedNotEndOnAnOctet() throws Exception {
        assertTrue(covers("192.0.2.128/25", "192.0.2.200"));
        assertFalse(covers("192.0.2.128/25", "192.0.2.127"));
        assertTrue(covers("172.16.0.0/12", "172.31.255.1"));
        assertFalse(covers("172.16.0.0/12", "172.32.0.1"));
    }

    @Test
    void ipv6AddressesCompareWhateverTheirSpelling() throws Exception {
        assertTrue(covers("2001:db8::7", "2001:0db8:0:0:0:0:0:7"));
        assertFalse(covers("2001:db8::7", "2001:db8::8"));
    }

    @Test
    void aPartialIpv6AddressEndingInAColonCoversItsGroups() throws Exception {
        assertTrue(covers("2001:db8:e431:ae06:", "2001:db8:e431:ae06::1"));
        assertTrue(covers("2001:db8:e431:ae06:", "2001:0db8:e431:ae06:1:2:3:4"));
        assertFalse(covers("2001:db8:e431:ae06:", "2001:db8:e431:ae07::1"));
    }

    @Test
    void anIpv6NetMask() throws Exception {
        assertTrue(covers("2001:db8::/32", "2001:db8:ffff::1"));
        assertFalse(covers("2001:db8::/32", "2001:db9::1"));
    }

    @Test
    void ipv4AndIpv6NeverCoverEachOther() throws Exception {
        assertFalse(covers("0.0.0.0/0", "2001:db8::1"));
        assertFalse(covers("::/0", "192.0.2.1"));
    }

    @Test
    void theEntryIsKeptForTheLog() {
        assertEquals(Optional.of("10.1.0.0/24"), ClientNetwork.parse("10.1.0.0/24").map(ClientNetwork::entry));
    }

    /** "192.168.1" would be 192.168.0.1 to InetAddress; qpsmtpd never matched it, and a net/mask with host bits is refused by Net::IP. */
    @ParameterizedTest
    @ValueSource(strings = {"192.168.1", "256.1.1.1", "1.2.3.4.5", "192.168.42.0.", "10.1.0.5/24", "10.0.0.0/33", "10.0.0.0/x",
            "2001:db8::/129", "2001:db8", "example.com", "localhost", "fe80::1%eth0", "2001:db8:e431:ae06:1:2:3:4:"})
    void entriesOfNoFormAreRefused(String entry) {
        assertEquals(Optional.empty(), ClientNetwork.parse(entry));
    }
}
