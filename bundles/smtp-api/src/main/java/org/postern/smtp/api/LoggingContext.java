package org.postern.smtp.api;

import org.osgi.annotation.versioning.ProviderType;

/** Context of {@code logging}. */
@ProviderType
public interface LoggingContext extends HookContext {
    LogLevel level();

    /** The hook being run when the line was logged, or empty. */
    String hookName();

    /** The plugin that logged the line, or empty for the core. */
    String pluginName();

    String text();
}
