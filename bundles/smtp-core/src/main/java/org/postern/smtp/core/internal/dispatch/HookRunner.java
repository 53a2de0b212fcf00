package org.postern.smtp.core.internal.dispatch;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.ReturnCode;
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
            HookType.CONFIG, HookType.USER_CONFIG, HookType.RECEIVED_LINE);

    /** The plugin and hook running on this thread; slf4j-simple has no MDC, so plugin logging reads this. */
    private static final ThreadLocal<String[]> CURRENT_CALL = new ThreadLocal<>();

    private final Executor executor;
    private final Duration defaultTimeout;
    private final HookResult failure;

    /**
     * @param failure the answer given in place of a plugin that failed at a deciding hook, e.g. DENYSOFT 451
     */
    public HookRunner(Executor executor, Duration defaultTimeout, HookResult failure) {
        this.executor = executor;
        this.defaultTimeout = defaultTimeout;
        this.failure = failure;
    }

    /** Runs the chain; the future completes with the deciding answer, or DECLINED when every plugin declined. */
    public CompletableFuture<HookResult> run(HookChains chains, HookType hook, HookContext ctx) {
        return runFrom(chains, chains.chain(hook), 0, hook, ctx);
    }

    private CompletableFuture<HookResult> runFrom(HookChains chains, List<RegisteredHook> chain, int index,
            HookType hook, HookContext ctx) {
        if (index == chain.size()) {
            return CompletableFuture.completedFuture(HookResult.declined());
        }
        RegisteredHook plugin = chain.get(index);
        Duration timeout = plugin.timeout() == null ? defaultTimeout : plugin.timeout();
        return CompletableFuture.supplyAsync(() -> call(plugin, hook, ctx), executor)
                .thenCompose(result -> result.pending().map(HookRunner::awaitAnswer)
                        .orElseGet(() -> CompletableFuture.completedFuture(result)))
                .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .handleAsync((result, error) -> {
                    HookResult answer = error == null ? result : failed(plugin, hook, ctx, error);
                    notifyDenyOrOk(chains, hook, plugin, answer, ctx);
                    return answer;
                }, executor)
                .thenCompose(answer -> answer.code() == ReturnCode.DECLINED
                        ? runFrom(chains, chain, index + 1, hook, ctx)
                        : CompletableFuture.completedFuture(answer));
    }

    private static CompletableFuture<HookResult> awaitAnswer(CompletionStage<HookResult> stage) {
        return stage.toCompletableFuture().thenApply(answer -> {
            if (answer == null || answer.pending().isPresent()) {
                throw new IllegalStateException("a later() answer must complete with a final HookResult");
            }
            return answer;
        });
    }

    /**
     * Runs the chain on the calling thread, for hooks whose answer is needed at once (config, logging, deny,
     * ok). A plugin that answers later there is logged and counted as DECLINED, as qpsmtpd refuses YIELD.
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
            if (hook != HookType.LOGGING) {
                notifyDenyOrOk(chains, hook, plugin, answer, ctx);
            }
            if (answer.code() != ReturnCode.DECLINED) {
                return answer;
            }
        }
        return HookResult.declined();
    }

    private static HookResult call(RegisteredHook plugin, HookType hook, HookContext ctx) {
        String[] outer = CURRENT_CALL.get();
        CURRENT_CALL.set(new String[] {plugin.pluginName(), hook.hookName()});
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

    /** The plugin whose code runs on this thread, or empty for the core. */
    public static String currentPlugin() {
        String[] call = CURRENT_CALL.get();
        return call == null ? "" : call[0];
    }

    /** The hook being run on this thread, or empty. */
    public static String currentHook() {
        String[] call = CURRENT_CALL.get();
        return call == null ? "" : call[1];
    }

    private HookResult failed(RegisteredHook plugin, HookType hook, HookContext ctx, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof TimeoutException) {
            LOG.error("session {}: plugin {} timed out at hook {}", ctx.session().id(), plugin.pluginName(), hook.hookName());
        } else {
            LOG.error("session {}: plugin {} failed at hook {}", ctx.session().id(), plugin.pluginName(), hook.hookName(), cause);
        }
        return ADVISORY.contains(hook) ? HookResult.declined() : failure;
    }

    private void notifyDenyOrOk(HookChains chains, HookType hook, RegisteredHook plugin, HookResult answer, HookContext ctx) {
        HookType listener = answer.code().isDenial() ? HookType.DENY : HookType.OK;
        if (hook == HookType.DENY || hook == HookType.OK || !chains.has(listener)) {
            return;
        }
        runNow(chains, listener, HookContexts.result(ctx, plugin.pluginName(), hook, answer));
    }
}
