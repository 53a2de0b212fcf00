package org.postern.mailauth.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.testkit.TestTransaction;

/** RFC 8463's published example, sign-then-verify round trips, tampering, and the key and signature checks. */
class DkimVerifierTest {
    private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");
    private static final String MESSAGE = "From: Joe <joe@example.org>\r\nTo: sue@example.net\r\nSubject: dinner\r\n"
            + "Date: Fri, 11 Jul 2003 21:00:37 -0700\r\n\r\nHi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n";
    private static final KeyPair RSA = keyPair("RSA", 2048);
    private static final KeyPair ED25519 = keyPair("Ed25519", 0);

    private final Map<String, List<String>> records = new HashMap<>();

    private static KeyPair keyPair(String algorithm, int size) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
            if (size > 0) {
                generator.initialize(size);
            }
            return generator.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private CompletionStage<List<String>> lookup(String name) {
        if (name.startsWith("broken.")) {
            return CompletableFuture.failedFuture(new IOException("SERVFAIL"));
        }
        return CompletableFuture.completedFuture(records.getOrDefault(name, List.of()));
    }

    private List<Verdict> verify(String message) throws Exception {
        TestTransaction transaction = new TestTransaction().message(message);
        try (InputStream body = transaction.body()) {
            DkimVerifier verifier = new DkimVerifier(this::lookup, Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofMinutes(5), 10);
            return verifier.verify(transaction.header().orElseThrow().fields(), body).toCompletableFuture().join();
        }
    }

    /** The message with a signature by this key added on top, as the plugin adds it. */
    private static String signed(String message, KeyPair keys, String selector, Canonicalization canonicalization) throws Exception {
        SigningKey key = new SigningKey(keys.getPrivate().getAlgorithm().equals("RSA") ? Algorithm.RSA_SHA256 : Algorithm.ED25519_SHA256,
                keys.getPrivate());
        DkimSigner signer = new DkimSigner(key, "example.org", selector, DkimSigner.DEFAULT_FIELDS, Set.of("From"),
                canonicalization, canonicalization);
        TestTransaction transaction = new TestTransaction().message(message);
        byte[] bodyHash = signer.bodyHash(transaction.body());
        return "DKIM-Signature: " + signer.sign(transaction.header().orElseThrow().fields(), bodyHash, NOW) + "\r\n" + message;
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = DkimVerifierTest.class.getResourceAsStream("/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void rfc8463sExampleVerifies() throws Exception {
        records.put("brisbane._domainkey.football.example.com", List.of("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="));
        records.put("test._domainkey.football.example.com", List.of("v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3id"
                + "Y6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLz"
                + "BfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB"));
        List<Verdict> verdicts = verify(resource("rfc8463-a3.eml"));
        assertEquals(List.of(new Verdict(Verdict.Result.PASS, "", "football.example.com", "brisbane", "9/dsDChY", false),
                new Verdict(Verdict.Result.PASS, "", "football.example.com", "test", "icKcLSEZ", false)), verdicts);
    }

    @ParameterizedTest
    @EnumSource(Canonicalization.class)
    void rsaAndEd25519SignaturesVerify(Canonicalization canonicalization) throws Exception {
        records.put("rsa._domainkey.example.org", List.of(KeyRecord.publish(RSA.getPublic())));
        records.put("ed._domainkey.example.org", List.of(KeyRecord.publish(ED25519.getPublic())));
        String message = signed(signed(MESSAGE, RSA, "rsa", canonicalization), ED25519, "ed", canonicalization);
        assertEquals(List.of(Verdict.Result.PASS, Verdict.Result.PASS), results(verify(message)));
    }

    @Test
    void aChangedBodyFails() throws Exception {
        records.put("ed._domainkey.example.org", List.of(KeyRecord.publish(ED25519.getPublic())));
        Verdict verdict = verify(signed(MESSAGE, ED25519, "ed", Canonicalization.RELAXED).replace("hungry", "Hungry")).get(0);
        assertEquals(Verdict.Result.FAIL, verdict.result());
        assertEquals("body has been altered", verdict.detail());
    }

    @Test
    void aChangedHeaderFails() throws Exception {
        records.put("rsa._domainkey.example.org", List.of(KeyRecord.publish(RSA.getPublic())));
        assertEquals(List.of(Verdict.Result.FAIL), results(verify(signed(MESSAGE, RSA, "rsa", Canonicalization.RELAXED).replace("dinner", "lunch"))));
    }

    @Test
    void aSecondFromAddedAfterSigningFailsBecauseFromIsOverSigned() throws Exception {
        records.put("rsa._domainkey.example.org", List.of(KeyRecord.publish(RSA.getPublic())));
        String message = signed(MESSAGE, RSA, "rsa", Canonicalization.RELAXED).replace("\r\n\r\nHi.", "\r\nFrom: evil@example.com\r\n\r\nHi.");
        assertEquals(List.of(Verdict.Result.FAIL), results(verify(message)));
    }

    @Test
    void whiteSpaceChangesPassRelaxedButFailSimple() throws Exception {
        records.put("rsa._domainkey.example.org", List.of(KeyRecord.publish(RSA.getPublic())));
        String relaxed = signed(MESSAGE, RSA, "rsa", Canonicalization.RELAXED).replace("Subject: dinner", "Subject:  dinner ");
        String simple = signed(MESSAGE, RSA, "rsa", Canonicalization.SIMPLE).replace("Subject: dinner", "Subject:  dinner ");
        assertEquals(List.of(Verdict.Result.PASS), results(verify(relaxed)));
        assertEquals(List.of(Verdict.Result.FAIL), results(verify(simple)));
    }

    @Test
    void keyProblemsAreNamed() throws Exception {
        String message = signed(MESSAGE, RSA, "rsa", Canonicalization.RELAXED);
        assertEquals("public key: not available", verify(message).get(0).detail());
        records.put("rsa._domainkey.example.org", List.of("v=DKIM1; k=rsa; p="));
        assertEquals(new Verdict(Verdict.Result.PERMERROR, "public key: revoked", "example.org", "rsa",
                verify(message).get(0).signaturePrefix(), false), verify(message).get(0));
        records.put("rsa._domainkey.example.org", List.of(KeyRecord.publish(ED25519.getPublic())));
        assertEquals("public key: key type ed25519 does not match rsa-sha256", verify(message).get(0).detail());
        records.put("rsa._domainkey.example.org", List.of(KeyRecord.publish(keyPair("RSA", 512).getPublic())));
        assertEquals("public key: 512 bits are too few (RFC 8301)", verify(message).get(0).detail());
        records.put("rsa._domainkey.example.org", List.of("k=rsa; v=DKIM1; p=" + KeyRecord.publish(RSA.getPublic()).split("p=")[1]));
        assertEquals("public key: unsupported version", verify(message).get(0).detail());
        records.put("rsa._domainkey.example.org", List.of(KeyRecord.publish(RSA.getPublic()) + "; t=y; s=email; h=sha256"));
        assertEquals(new Verdict(Verdict.Result.PASS, "", "example.org", "rsa", verify(message).get(0).signaturePrefix(), true),
                verify(message).get(0));
    }

    @Test
    void aDnsFailureIsATemporaryError() throws Exception {
        Verdict verdict = verify(signed(MESSAGE, RSA, "broken", Canonicalization.RELAXED)).get(0);
        assertEquals(Verdict.Result.TEMPERROR, verdict.result());
    }

    @Test
    void signatureChecks() throws Exception {
        records.put("rsa._domainkey.example.org", List.of(KeyRecord.publish(RSA.getPublic()) + "; t=s"));
        String message = signed(MESSAGE, RSA, "rsa", Canonicalization.RELAXED);
        assertEquals("public key: t=s forbids an identity in a subdomain", detail(message.replace("d=example.org;", "d=example.org; i=@a.example.org;")));
        assertEquals("bad identity", detail(message.replace("d=example.org;", "d=example.org; i=@example.com;")));
        assertEquals("rsa-sha1 is not accepted (RFC 8301)", detail(message.replace("a=rsa-sha256", "a=rsa-sha1")));
        assertEquals("From field not signed", detail(message.replaceAll("h=From:From:", "h=")));
        assertEquals("signature is expired", detail(message.replace("t=" + NOW.getEpochSecond(),
                "t=" + (NOW.getEpochSecond() - 1000) + "; x=" + (NOW.getEpochSecond() - 301))));
        assertEquals("expiration before timestamp", detail(message.replace("d=example.org;", "d=example.org; x=1;")));
        assertEquals("unsupported version", detail(message.replace("v=1;", "v=2;")));
        assertEquals(Verdict.Result.PERMERROR, verify(message.replace("v=1;", "v=1; v=1;")).get(0).result());
    }

    @Test
    void onlyTheFirstSignaturesAreVerified() throws Exception {
        records.put("rsa._domainkey.example.org", List.of(KeyRecord.publish(RSA.getPublic())));
        String message = MESSAGE;
        for (int i = 0; i < 12; i++) {
            message = signed(message, RSA, "rsa", Canonicalization.RELAXED);
        }
        assertEquals(10, verify(message).size());
    }

    /** Twenty megabytes of body, made as they are read: signed and verified in chunks, never held whole. */
    @Test
    void aLargeBodyIsStreamed() throws Exception {
        records.put("ed._domainkey.example.org", List.of(KeyRecord.publish(ED25519.getPublic())));
        DkimSigner signer = new DkimSigner(new SigningKey(Algorithm.ED25519_SHA256, ED25519.getPrivate()), "example.org", "ed",
                DkimSigner.DEFAULT_FIELDS, Set.of("From"), Canonicalization.RELAXED, Canonicalization.RELAXED);
        List<HeaderField> header = new TestTransaction().message(MESSAGE).header().orElseThrow().fields();
        String value = signer.sign(header, signer.bodyHash(largeBody()), NOW);
        List<HeaderField> signedHeader = new ArrayList<>(header);
        signedHeader.add(0, new HeaderField("DKIM-Signature", " " + value));
        DkimVerifier verifier = new DkimVerifier(this::lookup, Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofMinutes(5), 10);
        assertEquals(List.of(Verdict.Result.PASS), results(verifier.verify(signedHeader, largeBody()).toCompletableFuture().join()));
    }

    private static InputStream largeBody() {
        byte[] line = "All work and no play makes Jack a dull boy.   \r\n".getBytes(StandardCharsets.US_ASCII);
        long size = 20L * 1024 * 1024;
        return new InputStream() {
            private long position;

            @Override
            public int read() {
                return position < size ? line[(int) (position++ % line.length)] : -1;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) {
                if (position >= size) {
                    return -1;
                }
                int count = (int) Math.min(length, size - position);
                for (int i = 0; i < count; i++) {
                    buffer[offset + i] = line[(int) (position++ % line.length)];
                }
                return count;
            }
        };
    }

    @Test
    void aMessageWithoutSignaturesHasNoVerdicts() throws Exception {
        assertEquals(List.of(), verify(MESSAGE));
    }

    private String detail(String message) throws Exception {
        return verify(message).get(0).detail();
    }

    private static List<Verdict.Result> results(List<Verdict> verdicts) {
        List<Verdict.Result> results = new ArrayList<>();
        verdicts.forEach(verdict -> results.add(verdict.result()));
        return results;
    }

    @Test
    void pemKeysAreRead() throws Exception {
        String pkcs8 = "-----BEGIN PRIVATE KEY-----\n" + java.util.Base64.getMimeEncoder().encodeToString(ED25519.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        assertEquals(Algorithm.ED25519_SHA256, SigningKey.fromPem(pkcs8).algorithm());
        Process genrsa = new ProcessBuilder("openssl", "genrsa", "-traditional", "1024").start();
        String pkcs1 = new String(genrsa.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        genrsa.waitFor();
        assertEquals(true, pkcs1.contains("BEGIN RSA PRIVATE KEY"), pkcs1);
        assertEquals(Algorithm.RSA_SHA256, SigningKey.fromPem(pkcs1).algorithm());
    }
}
