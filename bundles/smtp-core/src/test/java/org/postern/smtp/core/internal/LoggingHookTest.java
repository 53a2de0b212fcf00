package org.postern.smtp.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DataHook;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.LoggingContext;
import org.postern.smtp.api.LoggingHook;
import org.postern.smtp.core.internal.dispatch.CoreLog;
import org.postern.smtp.core.internal.dispatch.HookChains;
import org.postern.smtp.core.internal.dispatch.HookContexts;
import org.postern.smtp.core.internal.dispatch.HookRunner;
import org.postern.smtp.core.internal.dispatch.Statistics;
import org.postern.smtp.core.internal.dispatch.TestHooks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** qpsmtpd's logging hook hears the core's lines as well as the plugins', and never holds up the logger. */
class LoggingHookTest {
    private static final Logger CORE = LoggerFactory.getLogger("org.postern.smtp.core.test");

    private final List<String> logged = new CopyOnWriteArrayList<>();
    private final HookChains chains = new TestHooks()
            .add(HookType.DATA, "chatty", 10, (DataHook) ctx -> {
                ctx.log(LogLevel.INFO, "looked at the message");
                return HookResult.declined();
            })
            .add(HookType.LOGGING, "collector", 10, (LoggingHook) ctx -> {
                LoggingContext line = (LoggingContext) ctx;
                logged.add("[" + line.pluginName() + "] " + line.level() + " " + line.text());
                ctx.log(LogLevel.INFO, "a logging plugin's own line goes to the server log, not back to the hook");
                return HookResult.ok();
            })
            .chains();
    private final HookRunner runner = new HookRunner(Runnable::run, TestHooks.TIMER, Duration.ofSeconds(5),
            HookResult.denySoft("failed"), new Statistics());

    private HookContexts.Scope scope(Executor loggingThread) {
        CorePluginSupport support = new CorePluginSupport(runner, () -> chains, item -> List.of(), item -> List.of(),
                (user, item) -> List.of(), loggingThread);
        return new HookContexts.Scope(TestHooks.context().session(), TestHooks.context().transaction(), support);
    }

    @Test
    void coreAndPluginLinesReachLoggingPluginsInOrderTheCoresWithoutAPluginName() throws Exception {
        HookContexts.Scope scope = scope(Runnable::run);
        CoreLog.log(HookContexts.plain(scope), CORE, LogLevel.INFO, "RCPT TO {} not accepted: {}", "<a@b.example>", "DENY");
        runner.run(chains, HookType.DATA, HookContexts.plain(scope)).get(5, TimeUnit.SECONDS);
        CoreLog.log(HookContexts.plain(scope), CORE, LogLevel.ERROR, "message not spooled", new java.io.IOException("disk full"));
        assertEquals(List.of("[] INFO RCPT TO <a@b.example> not accepted: DENY", "[chatty] INFO looked at the message",
                "[] ERROR message not spooled: java.io.IOException: disk full"), logged);
    }

    @Test
    void aPluginLoggingFromALaterStageOnAnotherThreadIsStillNamed() throws Exception {
        HookChains async = new TestHooks()
                .add(HookType.DATA, "async", 10, (DataHook) ctx -> HookResult.later(CompletableFuture.supplyAsync(() -> {
                    ctx.log(LogLevel.INFO, "the answer came back");
                    return HookResult.declined();
                }, Executors.newSingleThreadExecutor())))
                .add(HookType.LOGGING, "collector", 10, (LoggingHook) ctx -> {
                    LoggingContext line = (LoggingContext) ctx;
                    logged.add("[" + line.pluginName() + " " + line.hookName() + "] " + line.text());
                    return HookResult.ok();
                })
                .chains();
        CorePluginSupport support = new CorePluginSupport(runner, () -> async, item -> List.of(), item -> List.of(),
                (user, item) -> List.of(), Runnable::run);
        HookContexts.Scope scope = new HookContexts.Scope(TestHooks.context().session(), TestHooks.context().transaction(), support);
        runner.run(async, HookType.DATA, HookContexts.plain(scope)).get(5, TimeUnit.SECONDS);
        assertEquals(List.of("[async data] the answer came back"), logged);
    }

    @Test
    void debugLinesAreOfferedOnlyWhenTheCoresLoggerWritesDebug() {
        Logger quiet = LoggerFactory.getLogger("org.postern.smtp.core.quiet");
        CoreLog.log(HookContexts.plain(scope(Runnable::run)), quiet, LogLevel.DEBUG, "every reply");
        CoreLog.log(HookContexts.plain(scope(Runnable::run)), quiet, LogLevel.INFO, "a message queued");
        assertEquals(List.of("[] INFO a message queued"), logged, "slf4j-simple writes INFO and up by default");
    }

    @Test
    void aFullLoggingQueueWritesTheLineToTheServerLogInsteadOfWaiting() {
        Executor full = task -> {
            throw new RejectedExecutionException("queue full");
        };
        CoreLog.log(HookContexts.plain(scope(full)), CORE, LogLevel.WARN, "still written");
        assertEquals(List.of(), logged);
    }
}
