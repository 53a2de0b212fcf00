package org.postern.smtp.api;

import java.util.Map;
import org.osgi.annotation.versioning.ProviderType;

/** Context of {@code mail}: the parsed sender and the MAIL parameters (lower-case names). */
@ProviderType
public interface MailContext extends HookContext {
    Address sender();

    Map<String, String> parameters();
}
