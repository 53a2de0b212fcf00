package org.postern.smtp.core.internal;

import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.core.internal.dispatch.CoreLog;
import org.postern.smtp.core.internal.dispatch.HookChains;
import org.postern.smtp.core.internal.dispatch.HookContexts;
import org.postern.smtp.core.internal.dispatch.HookRunner;
import org.postern.smtp.core.internal.dispatch.PluginSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Config lookup and logging for plugins, as qpsmtpd does them: the {@code config} hook first, then the
 * configuration PID, then built-in defaults; {@code user_config} plugins first, then the per-user factory
 * configurations; the {@code logging} hook first, then the server log. The ConfigAdmin-backed values are held
 * in memory and replaced when their configuration changes; config hook plugins keep their own caches (as
 * http_config does), since only they know when their source changes.
 *
 * <p>Log lines, the plugins' and the core's, reach logging plugins on one logging thread, in the order they
 * were logged: the core logs from the connection's thread, which must not wait for a plugin writing a file.
 * When that thread's queue is full the line goes to the server log instead of waiting in memory.
 */
final class CorePluginSupport implements PluginSupport {
    private static final Logger PLUGIN_LOG = LoggerFactory.getLogger("org.postern.smtp.plugin");
    private static final ThreadLocal<Boolean> IN_LOGGING_HOOK = ThreadLocal.withInitial(() -> false);

    private final HookRunner runner;
    private final Supplier<HookChains> chains;
    private final Function<String, List<String>> configured;
    private final Function<String, List<String>> defaults;
    private final BiFunction<Address, String, List<String>> userConfigured;
    private final Executor loggingThread;

    CorePluginSupport(HookRunner runner, Supplier<HookChains> chains, Function<String, List<String>> configured,
            Function<String, List<String>> defaults, BiFunction<Address, String, List<String>> userConfigured,
            Executor loggingThread) {
        this.runner = runner;
        this.chains = chains;
        this.configured = configured;
        this.defaults = defaults;
        this.userConfigured = userConfigured;
        this.loggingThread = loggingThread;
    }

    @Override
    public List<String> config(HookContext ctx, String item) {
        HookChains current = chains.get();
        if (current.has(HookType.CONFIG)) {
            HookResult answer = runner.runNow(current, HookType.CONFIG, HookContexts.config(ctx, item));
            if (answer.code() == ReturnCode.OK) {
                return answer.message();
            }
        }
        List<String> values = configured.apply(item);
        return values.isEmpty() ? defaults.apply(item) : values;
    }

    @Override
    public List<String> userConfig(HookContext ctx, Address user, String item) {
        HookChains current = chains.get();
        if (current.has(HookType.USER_CONFIG)) {
            HookResult answer = runner.runNow(current, HookType.USER_CONFIG, HookContexts.userConfig(ctx, user, item));
            if (answer.code() == ReturnCode.OK) {
                return answer.message();
            }
        }
        return userConfigured.apply(user, item);
    }

    @Override
    public void log(HookContext ctx, LogLevel level, String message) {
        if (HookRunner.pluginLogs(ctx, level)) {
            offer(new Line(ctx, PLUGIN_LOG, level, HookRunner.hookName(ctx), HookRunner.pluginName(ctx), message, null));
        }
    }

    @Override
    public boolean hasLoggingPlugins() {
        return chains.get().has(HookType.LOGGING);
    }

    @Override
    public void coreLog(HookContext ctx, Logger logger, LogLevel level, String text, Throwable error) {
        offer(new Line(ctx, logger, level, "", "", text, error));
    }

    /** A log line and where it goes when no logging plugin takes it; an empty plugin name is the core's. */
    private record Line(HookContext ctx, Logger logger, LogLevel level, String hook, String plugin, String text,
            Throwable error) {
        void write() {
            String session = ctx.session().id();
            if (plugin.isEmpty()) {
                CoreLog.write(logger, level, "session {}: {}", session, text, error);
            } else {
                CoreLog.write(logger, level, "session {} [{} {}]: {}", session, plugin, hook, text);
            }
        }
    }

    private void offer(Line line) {
        HookChains current = chains.get();
        if (!current.has(HookType.LOGGING) || IN_LOGGING_HOOK.get()) {
            line.write();
            return;
        }
        try {
            loggingThread.execute(() -> toLoggingPlugins(current, line));
        } catch (RejectedExecutionException full) {
            line.write();
        }
    }

    private void toLoggingPlugins(HookChains current, Line line) {
        String text = line.error() == null ? line.text() : line.text() + ": " + line.error();
        HookResult answer;
        IN_LOGGING_HOOK.set(true);
        try {
            answer = runner.runNow(current, HookType.LOGGING,
                    HookContexts.logging(line.ctx(), line.level(), line.hook(), line.plugin(), text));
        } finally {
            IN_LOGGING_HOOK.set(false);
        }
        if (answer.code() != ReturnCode.OK) {
            line.write();
        }
    }
}
