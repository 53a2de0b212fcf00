package org.postern.smtp.core.internal.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads the server's keys and certificate chains from PEM files (any private key format OpenSSL writes:
 * PKCS#8, PKCS#1 RSA, SEC 1 EC) and from PKCS#12 keystores (every key entry). Each failure names the file and
 * says what is wrong with it, since an administrator reads it in the log.
 */
final class CertificateLoader {
    private CertificateLoader() {
    }

    static ServerKey fromPem(CertificateFiles files) throws IOException, GeneralSecurityException {
        List<X509Certificate> chain = new ArrayList<>(certificates(files.certificate()));
        if (chain.isEmpty()) {
            throw new GeneralSecurityException(files.certificate() + " holds no PEM certificate");
        }
        if (files.ca().isPresent()) {
            for (X509Certificate issuer : certificates(files.ca().get())) {
                if (!chain.contains(issuer)) {
                    chain.add(issuer);
                }
            }
        }
        PrivateKey key = privateKey(files.keyFile());
        ServerKey loaded = new ServerKey(files.certificate().toString(), key, List.copyOf(chain));
        checkPair(loaded);
        return loaded;
    }

    static List<ServerKey> fromKeystore(Path keystore, char[] password) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            store.load(in, password);
        }
        List<ServerKey> keys = new ArrayList<>();
        for (String alias : Collections.list(store.aliases())) {
            if (!store.isKeyEntry(alias)) {
                continue;
            }
            List<X509Certificate> chain = new ArrayList<>();
            for (Certificate certificate : store.getCertificateChain(alias)) {
                chain.add((X509Certificate) certificate);
            }
            ServerKey loaded = new ServerKey(keystore + " (" + alias + ")", (PrivateKey) store.getKey(alias, password), List.copyOf(chain));
            checkPair(loaded);
            keys.add(loaded);
        }
        if (keys.isEmpty()) {
            throw new GeneralSecurityException(keystore + " holds no private key entry");
        }
        return keys;
    }

    private static List<X509Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
        List<X509Certificate> certificates = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        for (Object item : pemObjects(file)) {
            if (item instanceof X509CertificateHolder holder) {
                certificates.add(converter.getCertificate(holder));
            }
        }
        return certificates;
    }

    private static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        for (Object item : pemObjects(file)) {
            if (item instanceof PEMKeyPair pair) {
                return converter.getKeyPair(pair).getPrivate();
            }
            if (item instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            if (item instanceof PEMEncryptedKeyPair || item instanceof PKCS8EncryptedPrivateKeyInfo) {
                throw new GeneralSecurityException(file + ": the private key is encrypted; the server starts unattended, "
                        + "so give it the key in the clear, readable by Postern only (openssl pkey -in " + file + " -out <new file>)");
            }
        }
        throw new GeneralSecurityException(file + " holds no PEM private key");
    }

    private static List<Object> pemObjects(Path file) throws IOException {
        List<Object> items = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser parser = new PEMParser(reader)) {
            for (Object item = parser.readObject(); item != null; item = parser.readObject()) {
                items.add(item);
            }
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        return items;
    }

    /** A key that does not belong to its certificate would fail every handshake: refuse it at configuration time. */
    private static void checkPair(ServerKey key) throws GeneralSecurityException {
        String algorithm = switch (key.key().getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return;
        }
        byte[] probe = "postern key check".getBytes(StandardCharsets.US_ASCII);
        Signature signer = Signature.getInstance(algorithm);
        signer.initSign(key.key());
        signer.update(probe);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance(algorithm);
        verifier.initVerify(key.certificate().getPublicKey());
        verifier.update(probe);
        if (!verifier.verify(signature)) {
            throw new GeneralSecurityException(key.source() + ": the private key does not belong to the certificate "
                    + key.certificate().getSubjectX500Principal().getName());
        }
    }
}
