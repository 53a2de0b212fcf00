package org.postern.smtp.core.internal.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class ConnectionLimiterTest {
    @Test
    void theTotalLimitRefusesEveryAddressOnceReachedAndAFreedPlaceServesTheNext() throws Exception {
        ConnectionLimiter limiter = new ConnectionLimiter();
        limiter.limits(3, 2, 64);
        String first = limiter.acquire(InetAddress.getByName("192.0.2.1"));
        assertNotNull(limiter.acquire(InetAddress.getByName("192.0.2.2")));
        assertNotNull(limiter.acquire(InetAddress.getByName("198.51.100.1")));
        assertNull(limiter.acquire(InetAddress.getByName("203.0.113.9")), "a fourth connection, from an address not seen yet");
        assertEquals(3, limiter.total());
        limiter.release(first);
        assertNotNull(limiter.acquire(InetAddress.getByName("203.0.113.9")));
    }

    @Test
    void ipv6ClientsShareTheLimitOfTheirSlash64() throws Exception {
        ConnectionLimiter limiter = new ConnectionLimiter();
        limiter.limits(100, 2, 64);
        String first = limiter.acquire(InetAddress.getByName("2001:db8:1:2::1"));
        assertNotNull(limiter.acquire(InetAddress.getByName("2001:db8:1:2::2")));
        assertNull(limiter.acquire(InetAddress.getByName("2001:db8:1:2::3")), "a third address of the same /64");
        assertNotNull(limiter.acquire(InetAddress.getByName("2001:db8:1:3::1")), "another /64");
        assertEquals(2, limiter.fromIp(InetAddress.getByName("2001:db8:1:2::99")));
        limiter.release(first);
        assertNotNull(limiter.acquire(InetAddress.getByName("2001:db8:1:2::3")));
        assertEquals(3, limiter.total());
    }

    @Test
    void aPlaceIsFreedUnderTheNetworkItWasCountedInEvenAfterThePrefixChanged() throws Exception {
        ConnectionLimiter limiter = new ConnectionLimiter();
        limiter.limits(100, 1, 64);
        String counted = limiter.acquire(InetAddress.getByName("2001:db8:1:2::1"));
        limiter.limits(100, 1, 128);
        limiter.release(counted);
        limiter.limits(100, 1, 64);
        assertEquals(0, limiter.total());
        assertNotNull(limiter.acquire(InetAddress.getByName("2001:db8:1:2::1")));
    }
}
