package org.postern.smtp.api.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
    void ipv6AddressesAreReversedByNibble() throws UnknownHostException {
        // RFC 5782 section 2.4
        assertEquals("b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4",
                DnsNames.reversed(InetAddress.getByName("4321:0:1:2:3:4:567:89ab")));
    }
}
