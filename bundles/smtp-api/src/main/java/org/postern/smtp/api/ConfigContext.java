package org.postern.smtp.api;

import org.osgi.annotation.versioning.ProviderType;

/** Context of {@code config}. */
@ProviderType
public interface ConfigContext extends HookContext {
    /** The name of the config item asked for, e.g. {@code rcpthosts}. */
    String item();
}
