package org.postern.smtp.api;

import org.osgi.annotation.versioning.ProviderType;

/** Context of {@code deny} and {@code ok}: which plugin answered what, at which hook. */
@ProviderType
public interface ResultContext extends HookContext {
    String pluginName();

    String hookName();

    HookResult result();
}
