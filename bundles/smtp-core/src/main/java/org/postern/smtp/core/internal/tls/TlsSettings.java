package org.postern.smtp.core.internal.tls;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Where the server's certificates come from and how TLS is negotiated; the keys are the core's {@code tls.*}.
 *
 * @param certificates PEM certificates, the default one first
 * @param keystore a PKCS#12 keystore whose key entries are further certificates
 * @param handshakeTimeout how long a client may take to complete a handshake
 */
public record TlsSettings(List<CertificateFiles> certificates, Optional<Path> keystore, String keystorePassword,
        List<String> protocols, List<String> ciphers, Duration handshakeTimeout) {
    /** True when no certificate is configured at all. */
    public boolean none() {
        return certificates.isEmpty() && keystore.isEmpty();
    }

    /** These settings with this one certificate: the self-signed one, when none is configured. */
    public TlsSettings with(CertificateFiles certificate) {
        return new TlsSettings(List.of(certificate), keystore, keystorePassword, protocols, ciphers, handshakeTimeout);
    }
}
