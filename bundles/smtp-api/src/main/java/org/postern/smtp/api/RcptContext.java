package org.postern.smtp.api;

import java.util.Map;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Context of {@code rcpt}: the parsed recipient and the RCPT parameters (lower-case names), all of them the
 * plugins' to take ({@link #acceptParameter}): the core offers no RCPT extension.
 */
@ProviderType
public interface RcptContext extends HookContext {
    Address recipient();

    Map<String, String> parameters();

    /**
     * Takes on a parameter the core does not know, for a plugin that implements the extension it belongs to.
     * After the hook, a parameter that neither the core nor a plugin took is refused with {@code 555}
     * (RFC 5321 4.1.1.11), unless a plugin refused the command anyway. Names are lower case, as in
     * {@link #parameters()}.
     *
     * @since 1.1
     */
    void acceptParameter(String name);
}
