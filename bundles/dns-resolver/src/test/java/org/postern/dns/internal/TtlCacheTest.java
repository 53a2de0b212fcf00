package org.postern.dns.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TtlCacheTest {
    private final AtomicLong now = new AtomicLong();
    private final TtlCache<String> cache = new TtlCache<>(100, now::get);

    @Test
    void anAnswerIsKeptForItsTtlOnly() {
        cache.put("A x.test.", "192.0.2.1", 30);
        now.addAndGet(29_000_000_000L);
        assertEquals("192.0.2.1", cache.get("A x.test."));
        now.addAndGet(1_000_000_000L);
        assertNull(cache.get("A x.test."));
        cache.put("A y.test.", "192.0.2.2", 0);
        assertNull(cache.get("A y.test."), "TTL 0: for this query only");
    }

    @Test
    void aFloodOfNamesNeverGrowsThePastItsCapacity() {
        for (int i = 0; i < 10_000; i++) {
            cache.put("A " + i + ".bl.test.", "x", 3600);
            assertTrue(cache.size() <= 100, "size " + cache.size());
        }
        assertEquals("x", cache.get("A 9999.bl.test."), "the newest answer is kept");
    }
}
