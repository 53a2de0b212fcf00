package org.postern.smtp.client;

import java.util.Locale;

/** Whether the client encrypts a connection with STARTTLS (RFC 3207), and what it checks of the server's certificate. */
public enum TlsPolicy {
    /** Never: the connection stays in clear text, even when the server offers STARTTLS. */
    NONE,
    /**
     * Opportunistic (RFC 7435): STARTTLS when the server offers it, its certificate unchecked. When it does not
     * offer it or refuses the command, the message goes in clear text; when the handshake fails, it goes in clear
     * text over a new connection.
     */
    MAY,
    /** Required, certificate unchecked: without a TLS session nothing is sent (a temporary failure, {@code 4.7.5}). */
    ENCRYPT,
    /**
     * Required and verified: the certificate must chain to a trusted certificate (the destination's own file, else
     * the JVM's trust store) and name the destination's host (RFC 6125, as HTTPS checks it).
     */
    VERIFY;

    /** The policy named {@code none}, {@code may}, {@code encrypt} or {@code verify}, in any case. */
    public static TlsPolicy parse(String name) {
        try {
            return valueOf(name.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("TLS policy must be none, may, encrypt or verify, not '" + name + "'", e);
        }
    }
}
