package org.postern.smtp.core.internal.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.ConfigHook;
import org.postern.smtp.api.DataHook;
import org.postern.smtp.api.DenyHook;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.OkHook;
import org.postern.smtp.api.ResetTransactionHook;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.monitor.ServerMonitor;

class HookRunnerTest {
    private static final HookResult FAILURE = HookResult.denySoft("plugin failed").withReplyCode(451);
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Statistics statistics = new Statistics();
    private final HookRunner runner = new HookRunner(executor, TestHooks.TIMER, Duration.ofMillis(300), FAILURE, statistics);
    private final List<String> calls = new CopyOnWriteArrayList<>();
    /** Released after each test, so that no sleeper outlives it. */
    private final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    private final List<ExecutorService> pools = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        release.countDown();
        executor.shutdownNow();
        pools.forEach(ExecutorService::shutdownNow);
    }

    private DataHook answering(String name, HookResult answer) {
        return ctx -> {
            calls.add(name);
            return answer;
        };
    }

    /** The failure a chain ended with: a deciding hook's plugin failure is a {@link HookRunner.HookFailure}. */
    private static HookResult failureOf(CompletableFuture<HookResult> outcome) throws Exception {
        try {
            HookResult answer = outcome.get(5, TimeUnit.SECONDS);
            throw new AssertionError("expected a plugin failure, got " + answer);
        } catch (java.util.concurrent.ExecutionException e) {
            return ((HookRunner.HookFailure) e.getCause()).answer();
        }
    }

    private HookResult run(TestHooks hooks, HookType hook) throws Exception {
        return runner.run(hooks.chains(), hook, TestHooks.context()).get(5, TimeUnit.SECONDS);
    }

    @Test
    void declinedRunsTheNextPluginAndTheFirstOtherAnswerWins() throws Exception {
        TestHooks hooks = new TestHooks()
                .add(HookType.DATA, "third", 30, answering("third", HookResult.deny()))
                .add(HookType.DATA, "first", 10, answering("first", HookResult.declined()))
                .add(HookType.DATA, "second", 20, answering("second", HookResult.ok()));
        assertEquals(ReturnCode.OK, run(hooks, HookType.DATA).code());
        assertEquals(List.of("first", "second"), calls);
    }

    @Test
    void everyPluginDecliningGivesDeclined() throws Exception {
        TestHooks hooks = new TestHooks().add(HookType.DATA, "only", 10, answering("only", HookResult.declined()));
        assertEquals(ReturnCode.DECLINED, run(hooks, HookType.DATA).code());
        assertEquals(ReturnCode.DECLINED, run(new TestHooks(), HookType.DATA).code());
    }

    @Test
    void denyAndOkHooksHearOfEachAnswer() throws Exception {
        TestHooks hooks = new TestHooks()
                .add(HookType.DATA, "decliner", 10, answering("decliner", HookResult.declined()))
                .add(HookType.DATA, "denier", 20, answering("denier", HookResult.denySoft("busy")))
                .add(HookType.DENY, "deny-listener", 10, (DenyHook) ctx -> {
                    calls.add("deny:" + ctx.pluginName() + ":" + ctx.result().code());
                    return HookResult.declined();
                })
                .add(HookType.OK, "ok-listener", 10, (OkHook) ctx -> {
                    calls.add("ok:" + ctx.pluginName() + ":" + ctx.result().code());
                    return HookResult.declined();
                });
        assertEquals("busy", run(hooks, HookType.DATA).message().get(0));
        assertEquals(List.of("decliner", "ok:decliner:DECLINED", "denier", "deny:denier:DENYSOFT"), calls);
        assertEquals(1L, statistics.snapshot().get("denied data denier"));
    }

    @Test
    void aThrowingPluginAtADecidingHookGetsTheFailureAnswer() throws Exception {
        TestHooks hooks = new TestHooks()
                .add(HookType.DATA, "broken", 10, (DataHook) ctx -> {
                    throw new IllegalStateException("bug");
                })
                .add(HookType.DATA, "never", 20, answering("never", HookResult.ok()));
        assertEquals(FAILURE, failureOf(runner.run(hooks.chains(), HookType.DATA, TestHooks.context())));
        assertTrue(calls.isEmpty());
    }

    @Test
    void nullIsAFailureToo() throws Exception {
        TestHooks hooks = new TestHooks().add(HookType.DATA, "null", 10, (DataHook) ctx -> null);
        assertEquals(FAILURE, failureOf(runner.run(hooks.chains(), HookType.DATA, TestHooks.context())));
    }

    @Test
    void aThrowingPluginAtAnAdvisoryHookIsSkipped() throws Exception {
        TestHooks hooks = new TestHooks()
                .add(HookType.RESET_TRANSACTION, "broken", 10, (ResetTransactionHook) ctx -> {
                    throw new IllegalStateException("bug");
                })
                .add(HookType.RESET_TRANSACTION, "next", 20, (ResetTransactionHook) ctx -> {
                    calls.add("next");
                    return HookResult.declined();
                });
        assertEquals(ReturnCode.DECLINED, run(hooks, HookType.RESET_TRANSACTION).code());
        assertEquals(List.of("next"), calls);
    }

    @Test
    void laterAnswersAreAwaitedAndBoundedByTheTimeout() throws Exception {
        CompletableFuture<HookResult> verdict = new CompletableFuture<>();
        TestHooks waiting = new TestHooks().add(HookType.DATA, "async", 10, answering("async", HookResult.later(verdict)));
        CompletableFuture<HookResult> pending = runner.run(waiting.chains(), HookType.DATA, TestHooks.context());
        verdict.complete(HookResult.deny("decided"));
        assertEquals("decided", pending.get(5, TimeUnit.SECONDS).message().get(0));

        TestHooks hanging = new TestHooks()
                .add(HookType.DATA, "hangs", 10, answering("hangs", HookResult.later(new CompletableFuture<>())));
        long start = System.nanoTime();
        assertEquals(FAILURE, failureOf(runner.run(hanging.chains(), HookType.DATA, TestHooks.context())));
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(290));
    }

    @Test
    void monitorsHearEachPluginsOutcomeAndHowLongItTook() throws Exception {
        List<String> heard = new CopyOnWriteArrayList<>();
        ServerMonitor monitor = new ServerMonitor() {
            @Override
            public void pluginAnswered(HookType hook, String plugin, String outcome, Duration elapsed) {
                heard.add(hook.hookName() + " " + plugin + " " + outcome + (elapsed.toMillis() >= 250 ? " slow" : ""));
            }
        };
        HookRunner monitored = new HookRunner(executor, TestHooks.TIMER, Duration.ofMillis(300), FAILURE,
                new Statistics(List.of(monitor)));
        TestHooks declinedThenLater = new TestHooks()
                .add(HookType.DATA, "declines", 10, answering("declines", HookResult.declined()))
                .add(HookType.DATA, "later", 20, answering("later", HookResult.later(CompletableFuture.completedFuture(HookResult.deny()))));
        monitored.run(declinedThenLater.chains(), HookType.DATA, TestHooks.context()).get(5, TimeUnit.SECONDS);
        TestHooks broken = new TestHooks().add(HookType.DATA, "throws", 10, (DataHook) ctx -> {
            throw new IllegalStateException("bug");
        });
        failureOf(monitored.run(broken.chains(), HookType.DATA, TestHooks.context()));
        TestHooks hanging = new TestHooks()
                .add(HookType.DATA, "hangs", 10, answering("hangs", HookResult.later(new CompletableFuture<>())));
        failureOf(monitored.run(hanging.chains(), HookType.DATA, TestHooks.context()));
        assertEquals(List.of("data declines DECLINED", "data later DENY", "data throws FAILED", "data hangs TIMED_OUT slow"), heard);
    }

    @Test
    void aBlockedThreadDoesNotHoldTheSession() throws Exception {
        TestHooks hooks = new TestHooks().add(HookType.DATA, "sleeper", 10, (DataHook) ctx -> {
            try {
                Thread.sleep(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return HookResult.ok();
        });
        assertEquals(FAILURE, failureOf(runner.run(hooks.chains(), HookType.DATA, TestHooks.context())));
    }

    @Test
    void runNowAnswersOnTheCallingThreadAndIgnoresLater() {
        TestHooks hooks = new TestHooks()
                .add(HookType.CONFIG, "async", 10, (ConfigHook) ctx -> HookResult.later(new CompletableFuture<>()))
                .add(HookType.CONFIG, "static", 20, (ConfigHook) ctx -> HookResult.ok("a", "b"));
        assertEquals(List.of("a", "b"), runner.runNow(hooks.chains(), HookType.CONFIG,
                HookContexts.config(TestHooks.context(), "rcpthosts")).message());
    }

    @Test
    void configAnswersAreNotToldToTheDenyAndOkHooks() {
        TestHooks hooks = new TestHooks()
                .add(HookType.CONFIG, "refuses", 10, (ConfigHook) ctx -> HookResult.deny())
                .add(HookType.DENY, "listener", 10, (DenyHook) ctx -> {
                    calls.add("deny heard " + ctx.hookName());
                    return HookResult.declined();
                })
                .add(HookType.OK, "listener", 10, (OkHook) ctx -> {
                    calls.add("ok heard " + ctx.hookName());
                    return HookResult.declined();
                });
        runner.runNow(hooks.chains(), HookType.CONFIG, HookContexts.config(TestHooks.context(), "rcpthosts"));
        runner.run(hooks.chains(), HookType.CONFIG, HookContexts.config(TestHooks.context(), "me")).join();
        assertEquals(List.of(), calls, "qpsmtpd's run_hooks_no_respond tells no one");
    }

    /** A hook pool of one thread and a queue of this size, shut down after the test. */
    private java.util.concurrent.ThreadPoolExecutor oneThread(int queueSize) {
        java.util.concurrent.ThreadPoolExecutor pool = new java.util.concurrent.ThreadPoolExecutor(1, 1, 1, TimeUnit.SECONDS,
                new java.util.concurrent.LinkedBlockingQueue<>(queueSize));
        pools.add(pool);
        return pool;
    }

    /** A data chain whose one plugin holds its thread until the test releases it. */
    private TestHooks sleeper() {
        return new TestHooks().add(HookType.DATA, "sleeper", 10, (DataHook) ctx -> {
            calls.add("sleeper");
            awaitQuietly(release);
            return HookResult.ok();
        });
    }

    @Test
    void aPluginWaitingForAThreadTimesOutFromWhenItWasQueued() throws Exception {
        HookRunner saturated = new HookRunner(oneThread(10), TestHooks.TIMER, Duration.ofMillis(200), FAILURE, statistics);
        CompletableFuture<HookResult> stuck = saturated.run(sleeper().chains(), HookType.DATA, TestHooks.context());
        CompletableFuture<HookResult> waiting = saturated.run(sleeper().chains(), HookType.DATA, TestHooks.context());
        assertEquals(FAILURE, failureOf(stuck));
        assertEquals(FAILURE, failureOf(waiting), "queued behind a stuck call, answered all the same");
        assertEquals(1, statistics.stuckCalls(), "the sleeper holds its thread past its timeout");
        release.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (statistics.stuckCalls() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, statistics.stuckCalls());
        assertEquals(List.of("sleeper"), calls, "the call whose time ran out in the queue never ran");
    }

    @Test
    void aFullQueueAnswersOverloadedAtOnce() throws Exception {
        HookRunner saturated = new HookRunner(oneThread(1), TestHooks.TIMER, Duration.ofSeconds(30), FAILURE, statistics);
        saturated.run(sleeper().chains(), HookType.DATA, TestHooks.context());
        saturated.run(sleeper().chains(), HookType.DATA, TestHooks.context());
        assertEquals(HookRunner.OVERLOADED, failureOf(saturated.run(sleeper().chains(), HookType.DATA, TestHooks.context())));
        TestHooks advisory = new TestHooks().add(HookType.RESET_TRANSACTION, "reset", 10, (ResetTransactionHook) ctx -> HookResult.ok());
        assertEquals(ReturnCode.DECLINED, saturated.run(advisory.chains(), HookType.RESET_TRANSACTION, TestHooks.context())
                .get(1, TimeUnit.SECONDS).code(), "an advisory hook is skipped, not failed");
    }

    private static void awaitQuietly(java.util.concurrent.CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
