package org.postern.mailauth.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.mailauth.Programs.dkimpy;
import static org.postern.mailauth.Programs.run;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.testkit.TestTransaction;

/**
 * Both directions against two independent implementations from Debian, RSA and Ed25519: OpenDKIM 2.11
 * ({@code opendkim -t}, keys from a TestPublicKeys file) and dkimpy (python3-dkim with python3-nacl), keys given
 * through its dnsfunc. Debian's packages opendkim and python3-dkim must be installed (test.sh checks).
 */
class InteropTest {
    private static final String MESSAGE = "From: Joe <joe@example.org>\r\nTo: sue@example.net\r\nSubject: dinner\r\n"
            + "Date: Fri, 11 Jul 2003 21:00:37 -0700\r\nMessage-ID: <1@example.org>\r\n\r\nHi.\r\n\r\nWe lost the game.  \r\n\r\n";
    @TempDir
    static Path folder;
    private static KeyPair rsa;
    private static KeyPair ed25519;
    private static Map<String, String> records;

    @BeforeAll
    static void keys() throws Exception {
        rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        ed25519 = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        records = Map.of("rsa._domainkey.example.org", KeyRecord.publish(rsa.getPublic()),
                "ed._domainkey.example.org", KeyRecord.publish(ed25519.getPublic()));
        Files.writeString(folder.resolve("rsa.pem"), pem(rsa.getPrivate().getEncoded()));
        Files.writeString(folder.resolve("ed.pem"), pem(ed25519.getPrivate().getEncoded()));
        byte[] pkcs8 = ed25519.getPrivate().getEncoded();
        // dkimpy reads an Ed25519 key as its 32-octet seed in base64, the end of the PKCS#8 form
        Files.writeString(folder.resolve("ed.seed"), Base64.getEncoder().encodeToString(Arrays.copyOfRange(pkcs8, pkcs8.length - 32, pkcs8.length)));
        Files.writeString(folder.resolve("keys.txt"), records.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining("\n", "", "\n")));
        Files.writeString(folder.resolve("verify.conf"), "Mode v\nSyslog no\nTestPublicKeys " + folder.resolve("keys.txt") + "\n");
    }

    private static String pem(byte[] pkcs8) {
        return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(pkcs8) + "\n-----END PRIVATE KEY-----\n";
    }

    private static String ourSignature(String message, KeyPair keys, String selector, Canonicalization canonicalization) throws Exception {
        SigningKey key = new SigningKey(selector.equals("rsa") ? Algorithm.RSA_SHA256 : Algorithm.ED25519_SHA256, keys.getPrivate());
        DkimSigner signer = new DkimSigner(key, "example.org", selector, DkimSigner.DEFAULT_FIELDS, Set.of("From"), canonicalization, canonicalization);
        TestTransaction transaction = new TestTransaction().message(message);
        return "DKIM-Signature: " + signer.sign(transaction.header().orElseThrow().fields(), signer.bodyHash(transaction.body()), Instant.now()) + "\r\n";
    }

    private static List<Verdict.Result> ourVerdicts(String message) throws Exception {
        TestTransaction transaction = new TestTransaction().message(message);
        DkimVerifier verifier = new DkimVerifier(name -> CompletableFuture.completedFuture(records.containsKey(name) ? List.of(records.get(name)) : List.of()),
                Clock.systemUTC(), Duration.ofMinutes(5), 10);
        return verifier.verify(transaction.header().orElseThrow().fields(), transaction.body()).toCompletableFuture().join()
                .stream().map(Verdict::result).toList();
    }

    private static String openDkimVerify(String message) throws Exception {
        Path file = Files.writeString(folder.resolve("message.eml"), message, StandardCharsets.ISO_8859_1);
        return run("", "opendkim", "-x", folder.resolve("verify.conf").toString(), "-t", file.toString());
    }

    @Test
    void openDkimVerifiesOurSignatures() throws Exception {
        for (Canonicalization canonicalization : Canonicalization.values()) {
            assertTrue(openDkimVerify(ourSignature(MESSAGE, rsa, "rsa", canonicalization) + MESSAGE)
                    .contains("verification (s=rsa, d=example.org, 2048-bit key) succeeded"), canonicalization.keyword());
            assertTrue(openDkimVerify(ourSignature(MESSAGE, ed25519, "ed", canonicalization) + MESSAGE)
                    .contains("verification (s=ed, d=example.org, 0-bit key) succeeded"), canonicalization.keyword());
        }
        String tampered = (ourSignature(MESSAGE, rsa, "rsa", Canonicalization.RELAXED) + MESSAGE).replace("game", "match");
        assertTrue(openDkimVerify(tampered).contains("verification (s=rsa d=example.org, 2048-bit key, unknown) failed"), openDkimVerify(tampered));
    }

    @Test
    void weVerifyOpenDkimSignatures() throws Exception {
        for (String algorithm : List.of("rsa-sha256", "ed25519-sha256")) {
            // OpenDKIM 2.11's ed25519 simple/simple signatures fail its own verifier and dkimpy's as well: not tried
            for (String canonicalization : algorithm.startsWith("rsa") ? List.of("relaxed/relaxed", "simple/simple") : List.of("relaxed/relaxed")) {
                String selector = algorithm.startsWith("rsa") ? "rsa" : "ed";
                Path config = Files.writeString(folder.resolve("sign.conf"), "Mode s\nSyslog no\nRequireSafeKeys false\nDomain example.org\n"
                        + "Selector " + selector + "\nKeyFile " + folder.resolve(selector + ".pem") + "\nSignatureAlgorithm " + algorithm
                        + "\nCanonicalization " + canonicalization + "\n");
                Path file = Files.writeString(folder.resolve("plain.eml"), MESSAGE, StandardCharsets.ISO_8859_1);
                String output = run("", "opendkim", "-x", config.toString(), "-t", file.toString());
                String field = output.substring(output.indexOf("DKIM-Signature:")).strip().replaceAll("\r?\n", "\r\n") + "\r\n";
                assertEquals(List.of(Verdict.Result.PASS), ourVerdicts(field + MESSAGE), algorithm + " " + canonicalization + ":\n" + field);
                assertEquals(List.of(Verdict.Result.FAIL), ourVerdicts(field + MESSAGE.replace("dinner", "lunch")));
            }
        }
    }

    @Test
    void dkimpyVerifiesOurSignatures() throws Exception {
        for (Canonicalization canonicalization : Canonicalization.values()) {
            String message = ourSignature(MESSAGE, rsa, "rsa", canonicalization) + MESSAGE;
            message = ourSignature(message, ed25519, "ed", canonicalization) + message;
            assertEquals("pass\npass\n", dkimpy(message, "verify", folder.resolve("keys.txt").toString()), canonicalization.keyword());
            assertEquals("fail\nfail\n", dkimpy(message.replace("game", "match"), "verify", folder.resolve("keys.txt").toString()));
        }
    }

    @Test
    void weVerifyDkimpySignatures() throws Exception {
        for (String canonicalization : List.of("relaxed", "simple")) {
            String message = dkimpy(MESSAGE, "sign", "rsa", "example.org", folder.resolve("rsa.pem").toString(), "rsa-sha256", canonicalization)
                    + MESSAGE;
            message = dkimpy(message, "sign", "ed", "example.org", folder.resolve("ed.seed").toString(), "ed25519-sha256", canonicalization)
                    + message;
            assertEquals(List.of(Verdict.Result.PASS, Verdict.Result.PASS), ourVerdicts(message), message);
            assertEquals(List.of(Verdict.Result.FAIL, Verdict.Result.FAIL), ourVerdicts(message.replace("game", "match")));
        }
    }
}
