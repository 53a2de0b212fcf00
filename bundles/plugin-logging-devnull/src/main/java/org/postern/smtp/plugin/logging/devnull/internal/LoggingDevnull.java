package org.postern.smtp.plugin.logging.devnull.internal;

import org.osgi.service.component.annotations.Component;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LoggingContext;
import org.postern.smtp.api.LoggingHook;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * qpsmtpd's {@code logging/devnull}: takes every log line and writes it nowhere. Ordered last, it only keeps lines
 * from the server log; ordered before other logging plugins, from them too.
 */
@Component(service = LoggingHook.class, configurationPid = "org.postern.smtp.plugin.logging.devnull")
@PosternPlugin("logging/devnull")
@PosternHook("logging")
@HookOrder(1000)
public final class LoggingDevnull implements LoggingHook {
    @Override
    public HookResult onLogging(LoggingContext ctx) {
        return HookResult.ok();
    }
}
