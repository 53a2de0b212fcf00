package org.postern.smtp.client.internal;

import java.io.IOException;

/** The server said something an SMTP server does not say there. */
final class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    ProtocolException(String message) {
        super(message);
    }
}
