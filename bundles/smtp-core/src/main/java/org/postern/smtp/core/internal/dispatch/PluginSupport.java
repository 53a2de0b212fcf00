package org.postern.smtp.core.internal.dispatch;

import java.util.List;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.LogLevel;
import org.slf4j.Logger;

/** The services a hook context offers plugins: config lookup and logging (the core's lines too). */
public interface PluginSupport {
    List<String> config(HookContext ctx, String item);

    List<String> userConfig(HookContext ctx, Address user, String item);

    /** A plugin's log line, from {@link HookContext#log}. */
    void log(HookContext ctx, LogLevel level, String message);

    /** True when logging plugins are registered, so lines the server log would drop still have a reader. */
    boolean hasLoggingPlugins();

    /** A line of the core's own about the session of {@code ctx}, for {@code logger}; see {@link CoreLog}. */
    void coreLog(HookContext ctx, Logger logger, LogLevel level, String text, Throwable error);
}
