package org.postern.smtp.api;

import org.osgi.annotation.versioning.ProviderType;

/** Context of {@code user_config}. */
@ProviderType
public interface UserConfigContext extends HookContext {
    /** The recipient whose configuration is asked for. */
    Address user();

    String item();
}
