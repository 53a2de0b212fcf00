package org.postern.smtp.api.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;

class DnsNamesTest {
    @Test
    void ipv4AddressesAreReversedByOctet() throws UnknownHostException {
        assertEquals("2.0.0.127", DnsNames.reversed(InetAddress.getByName("127.0.0.2")));
        assertEquals("1.2.0.192", DnsNames.reversed(InetAddress.getByName("192.0.2.1")));
    }

    @Test
    void onlyRfc5782ListingsCount() throws UnknownHostException {
        for (String listed : new String[] {"127.0.0.2", "127.0.0.11", "127.1.2.3", "127.255.254.255"}) {
            assertTrue(DnsNames.isListing(InetAddress.getByName(listed)), listed);
        }
        for (String not : new String[] {"127.0.0.1", "127.0.0.0", "127.255.255.252", "127.255.255.254", "127.255.255.255", "10.0.0.2", "::1"}) {
            assertFalse(DnsNames.isListing(InetAddress.getByName(not)), not);
        }
    }

    @Test
    void ipv6AddressesAreReversedByNibble() throws UnknownHostException {
        // RFC 5782 section 2.4
        assertEquals("b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4",
                DnsNames.reversed(InetAddress.getByName("4321:0:1:2:3:4:567:89ab")));
    }
}
