package org.postern.smtp.plugin.dkim.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;
import org.postern.mailauth.dkim.DkimSigner;
import org.postern.mailauth.dkim.SigningKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The signing keys, read once from qpsmtpd's layout: {@code <folder>/<domain>/private} (RSA, PEM) with its
 * {@code selector}, and beside them, for Postern, {@code ed25519.private} (PKCS#8 PEM) with {@code ed25519.selector};
 * a domain with both is signed twice (RFC 8463 6). A domain folder that is a symbolic link signs with the key, and
 * under the name, of the folder it points to. A key that cannot be read is logged at ERROR and left out.
 */
final class Keyring {
    private static final Logger LOG = LoggerFactory.getLogger(Keyring.class);

    /** The signers of one domain folder, RSA first. */
    record DomainKeys(String signingDomain, List<DkimSigner> signers) {
    }

    private final Map<String, DomainKeys> byDomain;

    private Keyring(Map<String, DomainKeys> byDomain) {
        this.byDomain = byDomain;
    }

    static Keyring read(Path folder, Function<SignerSpec, DkimSigner> signerFactory) {
        Map<String, DomainKeys> byDomain = new HashMap<>();
        if (!Files.isDirectory(folder)) {
            LOG.info("dkim: no key folder {}, so no message is signed", folder);
            return new Keyring(byDomain);
        }
        try (Stream<Path> entries = Files.list(folder)) {
            for (Path entry : entries.filter(Files::isDirectory).toList()) {
                String domain = entry.getFileName().toString().toLowerCase(Locale.ROOT);
                String signingDomain = entry.toRealPath().getFileName().toString().toLowerCase(Locale.ROOT);
                List<DkimSigner> signers = new ArrayList<>();
                signer(entry, "private", "selector", signingDomain).map(signerFactory).ifPresent(signers::add);
                signer(entry, "ed25519.private", "ed25519.selector", signingDomain).map(signerFactory).ifPresent(signers::add);
                if (!signers.isEmpty()) {
                    byDomain.put(domain, new DomainKeys(signingDomain, List.copyOf(signers)));
                    LOG.info("dkim: signing mail from {} as {} with {}", domain, signingDomain,
                            signers.stream().map(signer -> signer.selector() + " (" + signer.key().algorithm().keyword() + ")").toList());
                }
            }
        } catch (IOException e) {
            LOG.error("dkim: cannot read the key folder {}: {}", folder, e.toString());
        }
        return new Keyring(byDomain);
    }

    /** What a signer needs: the key, the domain and the selector. */
    record SignerSpec(SigningKey key, String domain, String selector) {
    }

    private static Optional<SignerSpec> signer(Path folder, String keyFile, String selectorFile, String domain) {
        Path key = folder.resolve(keyFile);
        if (!Files.exists(key)) {
            return Optional.empty();
        }
        try {
            List<String> selector = Files.readAllLines(folder.resolve(selectorFile), StandardCharsets.US_ASCII);
            if (selector.isEmpty() || selector.get(0).isBlank()) {
                LOG.error("dkim: {} is empty, so {} is not used", folder.resolve(selectorFile), key);
                return Optional.empty();
            }
            return Optional.of(new SignerSpec(SigningKey.fromPem(Files.readString(key, StandardCharsets.US_ASCII)), domain, selector.get(0).strip()));
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            LOG.error("dkim: unable to read dkim key {} (with {}): {}", key, folder.resolve(selectorFile), e.toString());
            return Optional.empty();
        }
    }

    /** The keys for a sender's domain: its own folder, else the nearest parent domain's (qpsmtpd signs a host's mail so). */
    Optional<DomainKeys> forDomain(String domain) {
        String zone = domain.toLowerCase(Locale.ROOT);
        while (true) {
            DomainKeys keys = byDomain.get(zone);
            if (keys != null) {
                return Optional.of(keys);
            }
            int dot = zone.indexOf('.');
            if (dot < 0 || zone.indexOf('.', dot + 1) < 0) {
                // never a top-level domain's key
                return Optional.empty();
            }
            zone = zone.substring(dot + 1);
        }
    }
}
