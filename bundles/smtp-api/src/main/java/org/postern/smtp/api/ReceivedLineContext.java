package org.postern.smtp.api;

import org.osgi.annotation.versioning.ProviderType;

/** Context of {@code received_line}: the parts the default Received header is built from. */
@ProviderType
public interface ReceivedLineContext extends HookContext {
    /** SMTP, ESMTP, ESMTPS, ESMTPA or ESMTPSA (RFC 3848). */
    String smtpType();

    /** Authentication details for the header, or empty. */
    String authInfo();

    /** TLS details for the header, or empty. */
    String tlsInfo();
}
