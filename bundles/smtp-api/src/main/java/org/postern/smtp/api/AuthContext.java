package org.postern.smtp.api;

import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/** Context of the auth hooks (see the spec's authentication.pod). */
@ProviderType
public interface AuthContext extends HookContext {
    /** The mechanism in lower case: plain, login or cram-md5. */
    String mechanism();

    /** What the client sent as the user name. */
    String user();

    /** The clear-text password, for PLAIN and LOGIN. */
    Optional<String> clearPassword();

    /** The client's digest, for CRAM-MD5. */
    Optional<String> hashedPassword();

    /** The challenge the server sent, for CRAM-MD5. */
    Optional<String> ticket();
}
