package org.postern.smtp.core.internal.dispatch;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.monitor.ServerMonitor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs a hook's plugin chain with qpsmtpd's semantics: DECLINED runs the next plugin, the first other answer
 * wins, and after each plugin the {@code deny} or {@code ok} hook hears of its answer.
 *
 * <p>Plugins run on the hook executor, never on a connection's thread. Each call is bounded by a timeout; a
 * plugin that throws or times out is logged and, at a hook whose answer decides what the client is told,
 * answered with the configured temporary failure rather than skipped. A late answer is discarded.
 */
public final class HookRunner {
    private static final Logger LOG = LoggerFactory.getLogger(HookRunner.class);

    /** Hooks whose answers are ignored or only informative: a failing plugin there is logged and skipped. */
    private static final Set<HookType> ADVISORY = EnumSet.of(HookType.RESET_TRANSACTION, HookType.QUEUE_POST,
            HookType.DISCONNECT, HookType.POST_CONNECTION, HookType.LOGGING, HookType.DENY, HookType.OK,
            HookType.CONFIG, HookType.USER_CONFIG, HookType.RECEIVED_LINE, HookType.QUIT);

    /** Hooks whose answers are lookups or reports, not decisions: qpsmtpd's run_hooks_no_respond. */
    private static final Set<HookType> UNOBSERVED = EnumSet.of(HookType.DENY, HookType.OK, HookType.CONFIG,
            HookType.USER_CONFIG, HookType.LOGGING);

    /** The answer when the hook executor's queue is full: 421, and the connection closes. */
    public static final HookResult OVERLOADED = HookResult.of(ReturnCode.DENYSOFT_DISCONNECT,
            "System overloaded, try again later").withReplyCode(421).withEnhancedStatus("4.3.2");

    /**
     * A plugin at a deciding hook failed (it threw, timed out, answered later() with an error) or could not be
     * run (the hook queue was full): the chain ends with this, and the client gets {@link #reply()} whatever the
     * hook, one rule instead of each hook's table reading a failure as a plugin's DENYSOFT.
     */
    public static final class HookFailure extends RuntimeException {
        private final HookResult answer;

        HookFailure(HookResult answer) {
            super("plugin failure: " + answer, null, false, false);
            this.answer = answer;
        }

        /** The configured failure reply (hook.failure.code, 4.3.0, hook.failure.text), or 421 4.3.2 when overloaded. */
        public HookResult answer() {
            return answer;
        }
    }

    /** The plugin and hook running on this thread; slf4j-simple has no MDC, so plugin logging reads this. */
    private static final ThreadLocal<RunningCall> CURRENT_CALL = new ThreadLocal<>();

    private record RunningCall(RegisteredHook plugin, HookType hook) {
    }

    private final Executor executor;
    private final ScheduledExecutorService timer;
    private final Duration defaultTimeout;
    private final Duration queueTimeout;
    private final HookResult failure;
    private final Statistics statistics;

    /**
     * @param executor the threads plugins run on
     * @param timer bounds each plugin call by its timeout
     * @param failure the answer given in place of a plugin that failed at a deciding hook, e.g. DENYSOFT 451
     * @param statistics counts the denials per hook and plugin
     */
    public HookRunner(Executor executor, ScheduledExecutorService timer, Duration defaultTimeout, HookResult failure,
            Statistics statistics) {
        this(executor, timer, defaultTimeout, defaultTimeout, failure, statistics);
    }

    /**
     * @param queueTimeout the timeout of {@code queue} plugins, which make a message durable and may take
     *     longer than other plugins (a plugin's own {@code postern.hook.timeout} still wins)
     */
    public HookRunner(Executor executor, ScheduledExecutorService timer, Duration defaultTimeout, Duration queueTimeout,
            HookResult failure, Statistics statistics) {
        this.executor = executor;
        this.timer = timer;
        this.defaultTimeout = defaultTimeout;
        this.queueTimeout = queueTimeout;
        this.failure = failure;
        this.statistics = statistics;
    }

    /**
     * Runs the chain; the future completes with the deciding answer, or DECLINED when every plugin declined.
     * Plugins that answer at once run one after another in a single task on the hook executor, so a chain
     * costs one hand-over there and one back, whatever its length. Each plugin's timeout counts from the
     * moment its call is queued, so a saturated executor delays no answer past it; a full queue answers at
     * once with {@link #OVERLOADED}.
     */
    public CompletableFuture<HookResult> run(HookChains chains, HookType hook, HookContext ctx) {
        CompletableFuture<HookResult> outcome = new CompletableFuture<>();
        List<RegisteredHook> chain = chains.chain(hook);
        if (chain.isEmpty()) {
            outcome.complete(HookResult.declined());
        } else {
            enqueue(new Call(chains, chain, 0, hook, ctx, outcome));
        }
        return outcome;
    }

    /**
     * Runs work for a plugin on a hook thread, never on the connection's, so the plugin may block there; when
     * the hook threads' queue is full, on the common pool rather than not at all.
     */
    public void onPluginThread(Runnable task) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException full) {
            ForkJoinPool.commonPool().execute(task);
        }
    }

    private void enqueue(Call call) {
        try {
            executor.execute(() -> runFrom(call));
        } catch (RejectedExecutionException full) {
            if (call.settle()) {
                CoreLog.log(call.ctx, LOG, LogLevel.ERROR, "the hook executor's queue is full; {} answered as overloaded",
                        call.hook.hookName());
                finish(call.outcome, ADVISORY.contains(call.hook) ? HookResult.declined() : OVERLOADED);
            }
        }
    }

    /** Calls plugins from this call on, on this hook thread, until one decides or one answers later. */
    private void runFrom(Call first) {
        Call call = first;
        while (call.start()) {
            RegisteredHook plugin = call.plugin();
            if (call.ctx instanceof HookContexts.Base context) {
                context.runningIn(call);
            }
            HookResult answer;
            String outcome;
            try {
                answer = call(plugin, call.hook, call.ctx);
                outcome = answer.code().name();
            } catch (RuntimeException | LinkageError e) {
                answer = failed(plugin, call.hook, call.ctx, e);
                outcome = ServerMonitor.FAILED;
            } finally {
                call.returned();
            }
            if (answer.pending().isPresent()) {
                answer.pending().get().whenComplete(call::lateAnswer);
                return;
            }
            if (!call.settle()) {
                return;
            }
            call.answered(outcome);
            observe(call.chains, call.hook, plugin, answer, call.ctx);
            if (answer.code() != ReturnCode.DECLINED) {
                finish(call.outcome, answer);
                return;
            }
            if (call.isLast()) {
                call.outcome.complete(HookResult.declined());
                return;
            }
            call = call.next();
        }
    }

    /**
     * One plugin call: settled once, by its answer or by its timeout, whichever comes first. Its watchdog
     * starts when it is created, which is when it is queued or, within a running chain, when it starts.
     */
    private final class Call implements HookContexts.PluginCall {
        private static final int QUEUED = 0;
        private static final int RUNNING = 1;
        private static final int STUCK = 2;
        private static final int RETURNED = 3;

        private static final int OPEN = 0;
        private static final int COMMITTING = 1;
        private static final int SETTLED = 2;

        final HookChains chains;
        final List<RegisteredHook> chain;
        final int index;
        final HookType hook;
        final HookContext ctx;
        final CompletableFuture<HookResult> outcome;
        private final AtomicInteger settlement = new AtomicInteger(OPEN);
        private final AtomicInteger phase = new AtomicInteger(QUEUED);
        private final ScheduledFuture<?> watchdog;
        private final long queuedNanos = System.nanoTime();

        Call(HookChains chains, List<RegisteredHook> chain, int index, HookType hook, HookContext ctx,
                CompletableFuture<HookResult> outcome) {
            this.chains = chains;
            this.chain = chain;
            this.index = index;
            this.hook = hook;
            this.ctx = ctx;
            this.outcome = outcome;
            Duration timeout = plugin().timeout() != null ? plugin().timeout()
                    : hook == HookType.QUEUE ? queueTimeout : defaultTimeout;
            watchdog = timer.schedule(this::timedOut, timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public RegisteredHook plugin() {
            return chain.get(index);
        }

        @Override
        public HookType hook() {
            return hook;
        }

        boolean isLast() {
            return index + 1 >= chain.size();
        }

        Call next() {
            return new Call(chains, chain, index + 1, hook, ctx, outcome);
        }

        /** Tells the monitors how the plugin answered, and how long after the call was queued. */
        void answered(String outcome) {
            statistics.pluginAnswered(hook, plugin(), outcome, System.nanoTime() - queuedNanos);
        }

        /** Marks the plugin as running; false when its time ran out while it waited in the queue. */
        boolean start() {
            return settlement.get() == OPEN && phase.compareAndSet(QUEUED, RUNNING);
        }

        /** The plugin commits: from now on its answer is awaited, past the timeout. */
        @Override
        public boolean claimCommit() {
            if (settlement.compareAndSet(OPEN, COMMITTING)) {
                watchdog.cancel(false);
                return true;
            }
            return settlement.get() == COMMITTING;
        }

        /** The plugin's code returned (an answer, a later() promise, or an exception). */
        void returned() {
            if (phase.getAndSet(RETURNED) == STUCK) {
                statistics.stuckCallReturned();
            }
        }

        /** Claims the answer for this call; false when the timeout already answered in its place. */
        boolean settle() {
            if (settlement.getAndSet(SETTLED) == SETTLED) {
                return false;
            }
            watchdog.cancel(false);
            return true;
        }

        /**
         * Answers in the plugin's place on the timer thread. A final answer completes the chain at once, without
         * waiting for a hook thread (they may all be stuck); only a DECLINED one goes on to the next plugin.
         */
        private void timedOut() {
            if (!settlement.compareAndSet(OPEN, SETTLED)) {
                return;
            }
            if (phase.compareAndSet(RUNNING, STUCK)) {
                statistics.stuckCallStarted();
            }
            answered(ServerMonitor.TIMED_OUT);
            proceed(failed(plugin(), hook, ctx, new TimeoutException()), () -> enqueue(next()));
        }

        /** Ends the chain with a deciding answer, or when this was the last plugin; otherwise goes on to the next. */
        private void proceed(HookResult answer, Runnable toNext) {
            if (answer.code() != ReturnCode.DECLINED) {
                finish(outcome, answer);
            } else if (isLast()) {
                outcome.complete(HookResult.declined());
            } else {
                toNext.run();
            }
        }

        void lateAnswer(HookResult answer, Throwable error) {
            if (!settle()) {
                return;
            }
            if (error != null) {
                answered(ServerMonitor.FAILED);
                continueWith(failed(plugin(), hook, ctx, error));
            } else if (answer == null || answer.pending().isPresent()) {
                answered(ServerMonitor.FAILED);
                continueWith(failed(plugin(), hook, ctx,
                        new IllegalStateException("a later() answer must complete with a final HookResult")));
            } else {
                answered(answer.code().name());
                continueWith(answer);
            }
        }

        /** Goes on from this call's answer on a hook thread, never on the thread that completed it. */
        private void continueWith(HookResult answer) {
            try {
                executor.execute(() -> {
                    observe(chains, hook, plugin(), answer, ctx);
                    proceed(answer, () -> runFrom(next()));
                });
            } catch (RejectedExecutionException full) {
                finish(outcome, answer.code() != ReturnCode.DECLINED || ADVISORY.contains(hook) ? answer : OVERLOADED);
            }
        }
    }

    /**
     * Runs the chain on the calling thread, for hooks whose answer is needed at once (config, logging, deny,
     * ok). A plugin that answers later there is logged and counted as DECLINED, as qpsmtpd refuses YIELD.
     * As qpsmtpd's {@code run_hooks_no_respond}, the deny and ok hooks do not hear of these answers.
     */
    public HookResult runNow(HookChains chains, HookType hook, HookContext ctx) {
        for (RegisteredHook plugin : chains.chain(hook)) {
            HookResult answer;
            try {
                answer = call(plugin, hook, ctx);
            } catch (RuntimeException | LinkageError e) {
                LOG.error("plugin {} failed at hook {}", plugin.pluginName(), hook.hookName(), e);
                continue;
            }
            if (answer.pending().isPresent()) {
                LOG.error("plugin {} answered later() at hook {}, which needs an immediate answer; ignored",
                        plugin.pluginName(), hook.hookName());
                continue;
            }
            if (answer.code() != ReturnCode.DECLINED) {
                return answer;
            }
        }
        return HookResult.declined();
    }

    private static HookResult call(RegisteredHook plugin, HookType hook, HookContext ctx) {
        RunningCall outer = CURRENT_CALL.get();
        CURRENT_CALL.set(new RunningCall(plugin, hook));
        MDC.put("plugin", plugin.pluginName());
        MDC.put("hook", hook.hookName());
        MDC.put("session", ctx.session().id());
        try {
            HookResult answer = HookInvoker.invoke(hook, plugin.service(), ctx);
            if (answer == null) {
                throw new IllegalStateException("hook returned null instead of a HookResult");
            }
            return answer;
        } finally {
            CURRENT_CALL.set(outer);
            MDC.remove("plugin");
            MDC.remove("hook");
            MDC.remove("session");
        }
    }

    /** The plugin that logs with this context, or empty for the core. */
    public static String pluginName(HookContext ctx) {
        RegisteredHook plugin = pluginOf(ctx);
        return plugin == null ? "" : plugin.pluginName();
    }

    /** The hook whose plugin logs with this context, or empty. */
    public static String hookName(HookContext ctx) {
        HookContexts.PluginCall call = HookContexts.callOf(ctx);
        if (call != null) {
            return call.hook().hookName();
        }
        RunningCall running = CURRENT_CALL.get();
        return running == null ? "" : running.hook().hookName();
    }

    /** Whether a line at this level from the plugin that logs with this context is kept, by its own log level. */
    public static boolean pluginLogs(HookContext ctx, LogLevel level) {
        RegisteredHook plugin = pluginOf(ctx);
        LogLevel least = plugin == null ? null : plugin.logLevel();
        return least == null || level.compareTo(least) >= 0;
    }

    /**
     * The plugin that logs with this context: the one the context was handed to, which stays right when the
     * plugin logs from a later stage on another thread; else the one running on this thread (a context built
     * for a config lookup inside a plugin call).
     */
    private static RegisteredHook pluginOf(HookContext ctx) {
        HookContexts.PluginCall call = HookContexts.callOf(ctx);
        if (call != null) {
            return call.plugin();
        }
        RunningCall running = CURRENT_CALL.get();
        return running == null ? null : running.plugin();
    }

    /** Completes a chain: with its answer, or, when that is the failure stand-in, with a {@link HookFailure}. */
    private void finish(CompletableFuture<HookResult> outcome, HookResult answer) {
        if (answer == failure || answer == OVERLOADED) {
            outcome.completeExceptionally(new HookFailure(answer));
        } else {
            outcome.complete(answer);
        }
    }

    private HookResult failed(RegisteredHook plugin, HookType hook, HookContext ctx, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof TimeoutException) {
            CoreLog.log(ctx, LOG, LogLevel.ERROR, "plugin {} timed out at hook {}", plugin.pluginName(), hook.hookName());
        } else {
            CoreLog.log(ctx, LOG, LogLevel.ERROR, "plugin {} failed at hook {}", plugin.pluginName(), hook.hookName(), cause);
        }
        return ADVISORY.contains(hook) ? HookResult.declined() : failure;
    }

    /** Counts a plugin's denial and tells the deny or ok hook plugins of its answer. */
    private void observe(HookChains chains, HookType hook, RegisteredHook plugin, HookResult answer, HookContext ctx) {
        if (answer.code().isDenial()) {
            statistics.denial(hook, plugin.pluginName());
        }
        HookType listener = answer.code().isDenial() ? HookType.DENY : HookType.OK;
        if (UNOBSERVED.contains(hook) || !chains.has(listener)) {
            return;
        }
        runNow(chains, listener, HookContexts.result(ctx, plugin.pluginName(), hook, answer));
    }
}
