package org.postern.smtp.core.internal.dispatch;

import java.util.List;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.LogLevel;

/** The services a hook context offers plugins: config lookup and logging. */
public interface PluginSupport {
    List<String> config(HookContext ctx, String item);

    List<String> userConfig(HookContext ctx, Address user, String item);

    void log(HookContext ctx, LogLevel level, String message);
}
