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

    /**
     * Offers an extension in the EHLO reply, e.g. {@code XCLIENT NAME ADDR} (qpsmtpd's {@code capabilities}
     * note): listed after the core's own. Ignored at HELO, which offers none. A plugin that offers one
     * handles its command (unrecognized_command) or parameters ({@code acceptParameter}).
     *
     * @since 1.1
     */
    void offerCapability(String capability);
}
