package org.postern.smtp.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DataHook;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.LoggingContext;
import org.postern.smtp.api.LoggingHook;
import org.postern.smtp.core.internal.dispatch.HookChains;
import org.postern.smtp.core.internal.dispatch.HookContexts;
import org.postern.smtp.core.internal.dispatch.HookRunner;
import org.postern.smtp.core.internal.dispatch.Statistics;
import org.postern.smtp.core.internal.dispatch.TestHooks;

/** qpsmtpd's per-plugin loglevel: a plugin's lines below its own level never reach the logging hook or the log. */
class PluginLogLevelTest {
    @Test
    void aPluginsOwnLevelDropsItsLessSevereLines() throws Exception {
        List<String> logged = new CopyOnWriteArrayList<>();
        HookChains chains = new TestHooks()
                .addLogging(HookType.DATA, "quiet", 10, LogLevel.WARN, (DataHook) ctx -> {
                    ctx.log(LogLevel.INFO, "chatter");
                    ctx.log(LogLevel.WARN, "worth knowing");
                    return HookResult.declined();
                })
                .add(HookType.LOGGING, "collector", 10, (LoggingHook) ctx -> {
                    logged.add(((LoggingContext) ctx).pluginName() + ": " + ((LoggingContext) ctx).text());
                    return HookResult.ok();
                })
                .chains();
        HookRunner runner = new HookRunner(Runnable::run, TestHooks.TIMER, Duration.ofSeconds(5), HookResult.denySoft("failed"), new Statistics());
        CorePluginSupport support = new CorePluginSupport(runner, () -> chains, item -> List.of(), item -> List.of(),
                (user, item) -> List.of(), Runnable::run);
        HookContexts.Scope scope = new HookContexts.Scope(TestHooks.context().session(), TestHooks.context().transaction(), support);
        runner.run(chains, HookType.DATA, HookContexts.plain(scope)).get(5, TimeUnit.SECONDS);
        assertEquals(List.of("quiet: worth knowing"), logged);
    }

    @Test
    void levelsAreNamesOrQpsmtpdNumbers() {
        assertEquals(LogLevel.DEBUG, HookRegistry.logLevel("debug", "p"));
        assertEquals(LogLevel.WARN, HookRegistry.logLevel("LOGWARN", "p"));
        assertEquals(LogLevel.WARN, HookRegistry.logLevel("4", "p"));
        assertEquals(LogLevel.DEBUG, HookRegistry.logLevel(7, "p"));
        assertEquals(LogLevel.EMERG, HookRegistry.logLevel("0", "p"));
        assertNull(HookRegistry.logLevel("loud", "p"));
        assertNull(HookRegistry.logLevel(null, "p"));
    }
}
