package org.postern.smtp.api;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/** Context of {@code helo} and {@code ehlo}. */
@ProviderType
public interface HeloContext extends HookContext {
    /** The host name the client gave. */
    String host();

    /** Further words after the host name (rarely sent). */
    List<String> arguments();
}
