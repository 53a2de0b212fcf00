package org.postern.smtp.plugin.loadcheck.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class LoadcheckTest {
    private final AtomicLong clock = new AtomicLong();
    private final AtomicInteger readings = new AtomicInteger();
    private double load = 1.5;

    private Loadcheck plugin(Map<String, Object> options) {
        return new Loadcheck(TestConfig.of(Loadcheck.Config.class, options), () -> {
            readings.incrementAndGet();
            return load;
        }, clock::get);
    }

    @Test
    void aLoadAtOrBelowMaxLoadLetsTheClientIn() {
        TestContext ctx = new TestContext();
        load = 7.0;
        assertEquals(ReturnCode.DECLINED, plugin(Map.of()).onConnect(ctx).code());
        assertEquals(List.of("DEBUG continuing with load: 7.00"), ctx.logged());
    }

    @Test
    void aLoadAboveMaxLoadIsATemporaryRefusalWithQpsmtpdsText() {
        TestContext ctx = new TestContext();
        load = 2.25;
        HookResult result = plugin(Map.of("max_load", 2.0)).onConnect(ctx);
        assertEquals(ReturnCode.DENYSOFT, result.code());
        assertEquals(List.of("Server load too high, please try again later."), result.message());
        assertEquals(Optional.of("4.3.2"), result.enhancedStatus());
        assertEquals(List.of("ERROR local load too high: 2.25"), ctx.logged());
    }

    @Test
    void zeroMeansTheDefaultsAsQpsmtpdsOrAssignments() {
        load = 6.9;
        assertEquals(ReturnCode.DECLINED, plugin(Map.of("max_load", 0.0)).onConnect(new TestContext()).code());
        load = 7.1;
        assertEquals(ReturnCode.DENYSOFT, plugin(Map.of("max_load", 0.0)).onConnect(new TestContext()).code());
    }

    @Test
    void theLoadIsReadAgainOnlyAfterCacheTime() {
        Loadcheck plugin = plugin(Map.of("cache_time", 30));
        int atActivation = readings.get();
        plugin.onConnect(new TestContext());
        load = 50;
        clock.addAndGet(TimeUnit.SECONDS.toNanos(30));
        assertEquals(ReturnCode.DECLINED, plugin.onConnect(new TestContext()).code());
        assertEquals(atActivation + 1, readings.get());
        clock.addAndGet(1);
        assertEquals(ReturnCode.DENYSOFT, plugin.onConnect(new TestContext()).code());
        assertEquals(atActivation + 2, readings.get());
    }

    @Test
    void aNegativeCacheTimeReadsTheLoadForEveryConnection() {
        Loadcheck plugin = plugin(Map.of("cache_time", -1));
        int atActivation = readings.get();
        plugin.onConnect(new TestContext());
        plugin.onConnect(new TestContext());
        assertEquals(atActivation + 2, readings.get());
    }

    @Test
    void aSystemWithoutALoadAverageLetsEveryoneIn() {
        load = -1;
        TestContext ctx = new TestContext();
        assertEquals(ReturnCode.DECLINED, plugin(Map.of("max_load", -5.0)).onConnect(ctx).code());
        assertEquals(List.of(), ctx.logged());
    }

    @Test
    void theJvmReadsThisMachinesLoadAverage() {
        TestContext ctx = new TestContext();
        new Loadcheck(TestConfig.of(Loadcheck.Config.class, Map.of("max_load", 1000.0))).onConnect(ctx);
        assertEquals(1, ctx.logged().size());
        assertEquals(true, ctx.logged().get(0).matches("DEBUG continuing with load: \\d+\\.\\d\\d"), ctx.logged().toString());
    }
}
