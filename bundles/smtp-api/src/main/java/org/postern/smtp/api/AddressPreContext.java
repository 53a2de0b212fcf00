package org.postern.smtp.api;

import java.util.Map;
import org.osgi.annotation.versioning.ProviderType;

/** Context of {@code mail_pre} and {@code rcpt_pre}: the address text as parsed, before it becomes an {@link Address}. */
@ProviderType
public interface AddressPreContext extends HookContext {
    /** The address text, e.g. {@code <user@example.org>} or {@code user@example.org}. */
    String address();

    Map<String, String> parameters();
}
