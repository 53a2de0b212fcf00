package org.postern.smtp.core.internal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class ClientNetworkTest {
    private static String of(String address, int prefix) throws Exception {
        return ClientNetwork.of(InetAddress.getByName(address), prefix);
    }

    @Test
    void anIpv4ClientIsItsAddress() throws Exception {
        assertEquals("192.0.2.7", of("192.0.2.7", 64));
        assertEquals("192.0.2.7", of("::ffff:192.0.2.7", 64));
    }

    @Test
    void anIpv6ClientIsItsPrefix() throws Exception {
        assertEquals(of("2001:db8:1:2::1", 64), of("2001:db8:1:2:ffff:ffff:ffff:ffff", 64));
        assertNotEquals(of("2001:db8:1:2::1", 64), of("2001:db8:1:3::1", 64));
        assertEquals("20010db8000100020000000000000000/64", of("2001:db8:1:2:aaaa::1", 64));
        assertEquals(of("2001:db8:1::1", 48), of("2001:db8:1:ffff::1", 48));
        assertNotEquals(of("2001:db8:1:2::1", 128), of("2001:db8:1:2::2", 128));
    }
}
