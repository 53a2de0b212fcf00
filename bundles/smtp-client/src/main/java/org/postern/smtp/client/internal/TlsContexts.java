package org.postern.smtp.client.internal;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.nio.file.Path;
import javax.net.ssl.SSLException;
import org.postern.smtp.client.TlsPolicy;

/**
 * The client's TLS contexts: one that trusts every certificate (for {@code may} and {@code encrypt}, where any
 * encryption beats none, RFC 7435), one with the JVM's trust store, and one per trusted-certificates file, read
 * again for each new connection so that a renewed file is taken up without a restart.
 */
final class TlsContexts {
    private final SslContext unverified;
    private final SslContext jvmTrust;

    TlsContexts() {
        try {
            unverified = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
            jvmTrust = SslContextBuilder.forClient().build();
        } catch (SSLException e) {
            throw new IllegalStateException("this JVM cannot make TLS client contexts", e);
        }
    }

    SslContext forPolicy(TlsPolicy policy, Path trusted) throws SSLException {
        if (policy != TlsPolicy.VERIFY) {
            return unverified;
        }
        if (trusted == null) {
            return jvmTrust;
        }
        try {
            return SslContextBuilder.forClient().trustManager(trusted.toFile()).build();
        } catch (IllegalArgumentException e) {
            throw new SSLException("cannot read the trusted certificates in " + trusted + ": " + e.getMessage(), e);
        }
    }
}
