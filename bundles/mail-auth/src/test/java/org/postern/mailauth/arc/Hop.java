package org.postern.mailauth.arc;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.postern.mailauth.dkim.Algorithm;
import org.postern.mailauth.dkim.KeyRecord;
import org.postern.mailauth.dkim.SigningKey;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.testkit.TestResolver;
import org.postern.smtp.testkit.TestTransaction;

/** An ARC intermediary for tests: one domain, one RSA key published in a shared resolver; it verifies, then seals. */
final class Hop {
    static final String MESSAGE = "From: Joe <joe@example.org>\r\nTo: list@lists.example\r\nSubject: dinner\r\n"
            + "Date: Fri, 11 Jul 2003 21:00:37 -0700\r\nMessage-ID: <1@example.org>\r\n\r\nHi.\r\n\r\nWe lost the game.  \r\n\r\n";

    final String domain;
    final KeyPair keys;
    private final TestResolver resolver;

    Hop(String domain, TestResolver resolver) throws NoSuchAlgorithmException {
        this.domain = domain;
        this.resolver = resolver;
        this.keys = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        resolver.withTxt("arc._domainkey." + domain, KeyRecord.publish(keys.getPublic()));
    }

    static ArcVerdict verify(TestResolver resolver, String message) throws Exception {
        TestTransaction transaction = new TestTransaction().message(message);
        return new ArcVerifier(resolver::txt, Clock.systemUTC()).verify(transaction.header().orElseThrow().fields(), transaction.body())
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** The message as this hop passes it on: verified, then sealed with its results; unchanged when it may not seal. */
    String relay(String message) throws Exception {
        ArcVerdict verdict = verify(resolver, message);
        return seal(message, verdict, domain + "; spf=pass smtp.mailfrom=example.org; " + verdict.authResult());
    }

    String seal(String message, ArcVerdict verdict, String authResults) throws Exception {
        ArcSealer sealer = new ArcSealer(new SigningKey(Algorithm.RSA_SHA256, keys.getPrivate()), domain, "arc",
                List.of("From", "To", "Subject", "Date", "Message-ID", "DKIM-Signature"));
        TestTransaction transaction = new TestTransaction().message(message);
        List<HeaderField> fields = sealer.seal(transaction.header().orElseThrow().fields(), transaction.body(), authResults, verdict,
                Instant.now()).orElse(List.of());
        StringBuilder sealed = new StringBuilder();
        fields.forEach(field -> sealed.append(field.name()).append(':').append(field.value()).append("\r\n"));
        return sealed + message;
    }
}
