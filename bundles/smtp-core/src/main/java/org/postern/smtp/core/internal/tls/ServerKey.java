package org.postern.smtp.core.internal.tls;

import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/**
 * A private key with its certificate chain (the server's own certificate first), and where it came from.
 */
record ServerKey(String source, PrivateKey key, List<X509Certificate> chain) {
    private static final int SAN_DNS_NAME = 2;

    X509Certificate certificate() {
        return chain.get(0);
    }

    /**
     * The host names this certificate is valid for, which SNI selects it by: its subject alternative DNS names,
     * or its common name when it has none (RFC 6125 6.4.4).
     */
    List<String> hostNames() {
        List<String> names = new ArrayList<>();
        try {
            if (certificate().getSubjectAlternativeNames() != null) {
                for (List<?> name : certificate().getSubjectAlternativeNames()) {
                    if (((Integer) name.get(0)) == SAN_DNS_NAME) {
                        names.add(name.get(1).toString().toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // an unreadable extension leaves the common name
        }
        if (names.isEmpty()) {
            commonName(certificate().getSubjectX500Principal()).ifPresent(names::add);
        }
        return names;
    }

    private static Optional<String> commonName(X500Principal subject) {
        try {
            for (Rdn rdn : new LdapName(subject.getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return Optional.of(rdn.getValue().toString().toLowerCase(Locale.ROOT));
                }
            }
        } catch (InvalidNameException e) {
            // no common name to offer
        }
        return Optional.empty();
    }
}
