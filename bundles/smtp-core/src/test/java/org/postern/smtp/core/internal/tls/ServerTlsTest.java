package org.postern.smtp.core.internal.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Certificates as administrators have them, made by Debian's openssl, and their renewal on disk. */
class ServerTlsTest {
    @TempDir
    Path folder;

    private static void openssl(Path folder, String... arguments) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).directory(folder.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertEquals(0, process.waitFor(), "openssl " + String.join(" ", arguments) + ":\n" + output);
    }

    /** A key in the given openssl genpkey algorithm and a self-signed certificate for the names, as two PEM files. */
    private CertificateFiles certificate(String name, String algorithm, String... altNames) throws Exception {
        openssl(folder, "genpkey", "-algorithm", algorithm.split(":")[0],
                algorithm.contains(":") ? "-pkeyopt" : "-quiet", algorithm.contains(":") ? algorithm.split(":", 2)[1] : "-quiet",
                "-out", name + ".key");
        openssl(folder, "req", "-x509", "-key", name + ".key", "-subj", "/CN=" + altNames[0], "-days", "30",
                "-addext", "subjectAltName=" + String.join(",", java.util.Arrays.stream(altNames).map(n -> "DNS:" + n).toList()),
                "-out", name + ".crt");
        return new CertificateFiles(name, folder.resolve(name + ".crt"), Optional.of(folder.resolve(name + ".key")), Optional.empty());
    }

    private static TlsSettings settings(List<CertificateFiles> certificates) {
        return new TlsSettings(certificates, Optional.empty(), "", List.of("TLSv1.3", "TLSv1.2"),
                List.of("TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
                Duration.ofSeconds(10));
    }

    @Test
    void readsRsaAndEcKeysInEveryPemFormatOpensslWrites() throws Exception {
        CertificateFiles rsa = certificate("rsa", "RSA:rsa_keygen_bits:2048", "mx.example.org");
        CertificateFiles ec = certificate("ec", "EC:ec_paramgen_curve:P-256", "mail.example.net", "*.example.net");
        assertEquals(List.of("mx.example.org"), CertificateLoader.fromPem(rsa).hostNames());
        assertEquals(List.of("mail.example.net", "*.example.net"), CertificateLoader.fromPem(ec).hostNames());
        // the traditional formats: PKCS#1 for RSA, SEC 1 for EC
        openssl(folder, "rsa", "-in", "rsa.key", "-traditional", "-out", "rsa-pkcs1.key");
        openssl(folder, "ec", "-in", "ec.key", "-out", "ec-sec1.key");
        assertTrue(Files.readString(folder.resolve("rsa-pkcs1.key")).contains("BEGIN RSA PRIVATE KEY"));
        assertTrue(Files.readString(folder.resolve("ec-sec1.key")).contains("BEGIN EC PRIVATE KEY"));
        CertificateLoader.fromPem(new CertificateFiles("x", rsa.certificate(), Optional.of(folder.resolve("rsa-pkcs1.key")), Optional.empty()));
        CertificateLoader.fromPem(new CertificateFiles("x", ec.certificate(), Optional.of(folder.resolve("ec-sec1.key")), Optional.empty()));
        // key and certificate in one file, as many admins keep them
        Files.writeString(folder.resolve("both.pem"), Files.readString(folder.resolve("rsa.key")) + Files.readString(rsa.certificate()));
        ServerKey both = CertificateLoader.fromPem(new CertificateFiles("x", folder.resolve("both.pem"), Optional.empty(), Optional.empty()));
        assertEquals(1, both.chain().size());
    }

    @Test
    void aKeyOfAnotherCertificateOrAnEncryptedKeyIsRefusedNamingTheFile() throws Exception {
        CertificateFiles rsa = certificate("rsa", "RSA:rsa_keygen_bits:2048", "mx.example.org");
        CertificateFiles other = certificate("other", "RSA:rsa_keygen_bits:2048", "other.example.org");
        CertificateFiles mismatched = new CertificateFiles("x", rsa.certificate(), other.key(), Optional.empty());
        String message = assertThrows(IllegalArgumentException.class, () -> ServerTls.create(settings(List.of(mismatched)))).getMessage();
        assertTrue(message.contains(rsa.certificate().toString()) && message.contains("does not belong"), message);
        openssl(folder, "pkey", "-in", "rsa.key", "-aes256", "-passout", "pass:secret", "-out", "encrypted.key");
        CertificateFiles encrypted = new CertificateFiles("x", rsa.certificate(), Optional.of(folder.resolve("encrypted.key")), Optional.empty());
        message = assertThrows(IllegalArgumentException.class, () -> ServerTls.create(settings(List.of(encrypted)))).getMessage();
        assertTrue(message.contains("encrypted.key") && message.contains("encrypted"), message);
        CertificateFiles missing = new CertificateFiles("x", folder.resolve("nothing.crt"), Optional.empty(), Optional.empty());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ServerTls.create(settings(List.of(missing)))).getMessage()
                .contains("nothing.crt"));
    }

    @Test
    void aPkcs12KeystoreServesEachOfItsKeys() throws Exception {
        certificate("rsa", "RSA:rsa_keygen_bits:2048", "mx.example.org");
        openssl(folder, "pkcs12", "-export", "-in", "rsa.crt", "-inkey", "rsa.key", "-passout", "pass:changeit", "-out", "mx.p12");
        List<ServerKey> keys = CertificateLoader.fromKeystore(folder.resolve("mx.p12"), "changeit".toCharArray());
        assertEquals(1, keys.size());
        assertEquals(List.of("mx.example.org"), keys.get(0).hostNames());
    }

    @Test
    void theSelfSignedCertificateIsMadeOnceForTheHostNameAndReadableByItsOwnerOnly() throws Exception {
        CertificateFiles made = SelfSignedCertificate.ensure(folder.resolve("tls"), "mx.example.org");
        ServerKey key = CertificateLoader.fromPem(made);
        assertEquals(List.of("mx.example.org"), key.hostNames());
        assertTrue(key.certificate().getSubjectX500Principal().getName().contains("self-signed"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(made.certificate())));
        String first = Files.readString(made.certificate());
        assertEquals(first, Files.readString(SelfSignedCertificate.ensure(folder.resolve("tls"), "mx.example.org").certificate()));
    }

    @Test
    void renewedFilesAreReadAgainAndABrokenRenewalKeepsTheCertificateInUse() throws Exception {
        CertificateFiles first = certificate("live", "RSA:rsa_keygen_bits:2048", "old.example.org");
        ServerTls tls = ServerTls.create(settings(List.of(first)));
        assertFalse(tls.reloadIfChanged());
        assertTrue(tls.describe().get(0).startsWith("[old.example.org]"), tls.describe().toString());

        certificate("live", "RSA:rsa_keygen_bits:2048", "new.example.org");
        touch(first.certificate(), first.keyFile());
        assertTrue(tls.reloadIfChanged());
        assertTrue(tls.describe().get(0).startsWith("[new.example.org]"), tls.describe().toString());

        Files.writeString(first.certificate(), "-----BEGIN CERTIFICATE-----\nhalf written");
        touch(first.certificate());
        assertFalse(tls.reloadIfChanged());
        assertTrue(tls.describe().get(0).startsWith("[new.example.org]"), tls.describe().toString());
    }

    /** Moves the modification time on, as a renewal a second later would. */
    private static void touch(Path... files) throws IOException {
        for (Path file : files) {
            Files.setLastModifiedTime(file, FileTime.from(Files.getLastModifiedTime(file).toInstant().plusSeconds(2)));
        }
    }

    @Test
    void labelledCertificatesFollowTheDefaultOneInLabelOrder() {
        List<CertificateFiles> files = CertificateFiles.fromConfig("/etc/mx.pem", "", "/etc/ca.pem", Map.of(
                "tls.cert.zeta", "/etc/z.pem", "tls.key.zeta", "/etc/z.key", "tls.cert.alpha", "/etc/a.pem", "me", "x"));
        assertEquals(List.of("default", "alpha", "zeta"), files.stream().map(CertificateFiles::label).toList());
        assertEquals(Path.of("/etc/z.key"), files.get(2).keyFile());
        assertEquals(Path.of("/etc/a.pem"), files.get(1).keyFile());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CertificateFiles.fromConfig("", "", "", Map.of("tls.key.x", "/k")))
                .getMessage().contains("'tls.cert.x'"));
    }
}
