package org.postern.smtp.core.internal.protocol;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Any exchange a client can start and answer: every step is a challenge, a refusal with a reply, or credentials
 * with a user name and a password (or CRAM-MD5's digest); nothing throws, and no exchange goes on forever.
 */
class SaslExchangeFuzzTest {
    private static final String[] MECHANISMS = {"plain", "login", "cram-md5"};

    @FuzzTest(maxDuration = "30s")
    void everyStepIsAChallengeARefusalOrCredentials(FuzzedDataProvider data) {
        SaslExchange exchange = SaslExchange.forMechanism(data.pickValue(MECHANISMS), "mx.test");
        SaslExchange.Step step = exchange.begin(data.consumeBoolean() ? data.consumeString(200) : null);
        int answers = 0;
        while (step instanceof SaslExchange.Challenge && data.remainingBytes() > 0) {
            step = exchange.respond(data.consumeString(200));
            assertTrue(++answers <= 2, "more than two answers asked for");
        }
        if (step instanceof SaslExchange.Done done) {
            assertFalse(done.credentials().user().isEmpty());
            assertTrue(done.credentials().clearPassword() != null ? !done.credentials().clearPassword().isEmpty()
                    : done.credentials().hashedPassword() != null && !done.credentials().hashedPassword().isEmpty());
        }
    }
}
