package org.postern.smtp.core.internal.dispatch;

import java.time.Duration;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.RcptHook;

/**
 * One rcpt hook chain of 20 plugins (19 decline, the last accepts): on the calling thread, to see the cost of
 * dispatch itself, and on a hook thread pool, which adds the hand-over there and back.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DispatchBenchmark {
    private HookChains chains;
    private HookContext context;
    private ExecutorService pool;
    private ScheduledThreadPoolExecutor timer;
    private HookRunner onCaller;
    private HookRunner onPool;

    @Setup
    public void setUp() {
        List<Map.Entry<HookType, RegisteredHook>> entries = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            RcptHook plugin = i < 19 ? ctx -> HookResult.declined() : ctx -> HookResult.ok();
            entries.add(new SimpleImmutableEntry<>(HookType.RCPT, new RegisteredHook("plugin" + i, plugin, i, 0, i, null, null)));
        }
        chains = HookChains.of(entries);
        context = HookContexts.rcpt(TestHooks.scope(),
                Address.parse("<user@example.org>").orElseThrow(), Map.of());
        pool = Executors.newFixedThreadPool(2);
        timer = new ScheduledThreadPoolExecutor(1);
        timer.setRemoveOnCancelPolicy(true);
        HookResult failure = HookResult.denySoft("failed");
        onCaller = new HookRunner(Runnable::run, timer, Duration.ofSeconds(30), failure, new Statistics());
        onPool = new HookRunner(pool, timer, Duration.ofSeconds(30), failure, new Statistics());
    }

    @TearDown
    public void tearDown() {
        pool.shutdownNow();
        timer.shutdownNow();
    }

    @Benchmark
    public HookResult twentyPluginsOnTheCallingThread() {
        return onCaller.run(chains, HookType.RCPT, context).join();
    }

    @Benchmark
    public HookResult twentyPluginsOnTheHookPool() {
        return onPool.run(chains, HookType.RCPT, context).join();
    }
}
