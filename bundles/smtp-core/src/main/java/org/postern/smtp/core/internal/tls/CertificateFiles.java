package org.postern.smtp.core.internal.tls;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One certificate as PEM files, qpsmtpd's {@code tls} plugin arguments: the certificate (or its whole chain, as
 * Let's Encrypt's {@code fullchain.pem}), the private key (which may sit in the certificate's file), and the
 * certificates of the issuing CA that complete the chain.
 *
 * @param label {@code default} for {@code tls.cert}, else the label of {@code tls.cert.<label>}
 */
public record CertificateFiles(String label, Path certificate, Optional<Path> key, Optional<Path> ca) {
    private static final Pattern LABELLED = Pattern.compile("tls\\.(cert|key|ca)\\.([A-Za-z0-9_-]+)");

    /**
     * The certificates of the core's configuration: {@code tls.cert} (with {@code tls.key}, {@code tls.ca}) first,
     * then each {@code tls.cert.<label>} (with {@code tls.key.<label>}, {@code tls.ca.<label>}) by label.
     */
    public static List<CertificateFiles> fromConfig(String cert, String key, String ca, Map<String, ?> properties) {
        List<CertificateFiles> certificates = new ArrayList<>();
        if (!cert.isBlank()) {
            certificates.add(of("default", cert, key, ca));
        } else if (!key.isBlank() || !ca.isBlank()) {
            throw new IllegalArgumentException("key 'tls.key' or 'tls.ca' is set without 'tls.cert'");
        }
        TreeSet<String> labels = new TreeSet<>();
        for (String name : properties.keySet()) {
            Matcher labelled = LABELLED.matcher(name);
            if (labelled.matches()) {
                labels.add(labelled.group(2));
            }
        }
        for (String label : labels) {
            Object labelledCert = properties.get("tls.cert." + label);
            if (labelledCert == null || labelledCert.toString().isBlank()) {
                throw new IllegalArgumentException("key 'tls.key." + label + "' or 'tls.ca." + label + "' is set without 'tls.cert." + label + "'");
            }
            certificates.add(of(label, labelledCert.toString(), text(properties.get("tls.key." + label)),
                    text(properties.get("tls.ca." + label))));
        }
        return certificates;
    }

    private static CertificateFiles of(String label, String cert, String key, String ca) {
        return new CertificateFiles(label, Path.of(cert.trim()), optionalPath(key), optionalPath(ca));
    }

    private static String text(Object value) {
        return value == null ? "" : value.toString();
    }

    /** A configured path; empty for a blank value. */
    public static Optional<Path> optionalPath(String value) {
        return value.isBlank() ? Optional.empty() : Optional.of(Path.of(value.trim()));
    }

    /** The file holding the private key. */
    Path keyFile() {
        return key.orElse(certificate);
    }
}
