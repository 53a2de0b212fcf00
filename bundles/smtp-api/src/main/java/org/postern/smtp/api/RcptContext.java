package org.postern.smtp.api;

import java.util.Map;
import org.osgi.annotation.versioning.ProviderType;

/** Context of {@code rcpt}: the parsed recipient and the RCPT parameters (lower-case names). */
@ProviderType
public interface RcptContext extends HookContext {
    Address recipient();

    Map<String, String> parameters();
}
