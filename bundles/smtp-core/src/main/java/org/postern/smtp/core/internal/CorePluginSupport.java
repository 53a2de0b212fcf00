package org.postern.smtp.core.internal;

import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.ReturnCode;
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
 */
final class CorePluginSupport implements PluginSupport {
    private static final Logger LOG = LoggerFactory.getLogger("org.postern.smtp.plugin");
    private static final ThreadLocal<Boolean> IN_LOGGING_HOOK = ThreadLocal.withInitial(() -> false);

    private final HookRunner runner;
    private final Supplier<HookChains> chains;
    private final Function<String, List<String>> configured;
    private final Function<String, List<String>> defaults;
    private final BiFunction<Address, String, List<String>> userConfigured;

    CorePluginSupport(HookRunner runner, Supplier<HookChains> chains, Function<String, List<String>> configured,
            Function<String, List<String>> defaults, BiFunction<Address, String, List<String>> userConfigured) {
        this.runner = runner;
        this.chains = chains;
        this.configured = configured;
        this.defaults = defaults;
        this.userConfigured = userConfigured;
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
        if (!HookRunner.currentPluginLogs(level)) {
            return;
        }
        HookChains current = chains.get();
        String plugin = HookRunner.currentPlugin();
        String hook = HookRunner.currentHook();
        if (current.has(HookType.LOGGING) && !IN_LOGGING_HOOK.get()) {
            IN_LOGGING_HOOK.set(true);
            try {
                HookResult answer = runner.runNow(current, HookType.LOGGING,
                        HookContexts.logging(ctx, level, hook, plugin, message));
                if (answer.code() == ReturnCode.OK) {
                    return;
                }
            } finally {
                IN_LOGGING_HOOK.set(false);
            }
        }
        String session = ctx.session().id();
        switch (level) {
            case DEBUG -> LOG.debug("session {} [{} {}]: {}", session, plugin, hook, message);
            case INFO, NOTICE -> LOG.info("session {} [{} {}]: {}", session, plugin, hook, message);
            case WARN -> LOG.warn("session {} [{} {}]: {}", session, plugin, hook, message);
            default -> LOG.error("session {} [{} {}]: {}", session, plugin, hook, message);
        }
    }
}
