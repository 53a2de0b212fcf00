package org.postern.smtp.core.internal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class AuthFailureBudgetTest {
    private static InetAddress ip(String address) throws Exception {
        return InetAddress.getByName(address);
    }

    @Test
    void theFailureThatUsesUpTheBudgetSaysSoAndTheAddressStaysBlocked() throws Exception {
        AuthFailureBudget budget = new AuthFailureBudget(3, Duration.ofMinutes(10), 64);
        assertFalse(budget.failed(ip("192.0.2.1")));
        assertFalse(budget.failed(ip("192.0.2.1")));
        assertFalse(budget.exhausted(ip("192.0.2.1")));
        assertTrue(budget.failed(ip("192.0.2.1")));
        assertTrue(budget.exhausted(ip("192.0.2.1")));
        assertFalse(budget.exhausted(ip("192.0.2.2")));
    }

    @Test
    void anIpv6ClientIsCountedByItsSlash64() throws Exception {
        AuthFailureBudget budget = new AuthFailureBudget(2, Duration.ofMinutes(10), 64);
        budget.failed(ip("2001:db8:1:2::1"));
        assertTrue(budget.failed(ip("2001:db8:1:2:ffff::9")));
        assertTrue(budget.exhausted(ip("2001:db8:1:2::77")));
        assertFalse(budget.exhausted(ip("2001:db8:1:3::1")));
    }

    @Test
    void failuresOlderThanTheWindowNoLongerCount() throws Exception {
        AuthFailureBudget budget = new AuthFailureBudget(2, Duration.ofMillis(1), 64);
        assertFalse(budget.failed(ip("192.0.2.1")));
        Thread.sleep(5);
        assertFalse(budget.failed(ip("192.0.2.1")), "a new window starts with this failure");
    }

    @Test
    void aLargerBudgetLiftsABlockAtOnce() throws Exception {
        AuthFailureBudget budget = new AuthFailureBudget(1, Duration.ofMinutes(10), 64);
        budget.failed(ip("192.0.2.1"));
        assertTrue(budget.exhausted(ip("192.0.2.1")));
        budget.limits(5, Duration.ofMinutes(10), 64);
        assertFalse(budget.exhausted(ip("192.0.2.1")));
    }

    @Test
    void theSessionDelayDoublesUpToItsCap() {
        SessionSettings.AuthPolicy policy = new SessionSettings.AuthPolicy(true, Duration.ofMillis(500), Duration.ofSeconds(3));
        assertEquals(Duration.ZERO, policy.delayAfter(0));
        assertEquals(Duration.ofMillis(500), policy.delayAfter(1));
        assertEquals(Duration.ofMillis(1000), policy.delayAfter(2));
        assertEquals(Duration.ofMillis(2000), policy.delayAfter(3));
        assertEquals(Duration.ofSeconds(3), policy.delayAfter(4));
        assertEquals(Duration.ofSeconds(3), policy.delayAfter(400));
    }
}
