package org.postern.health.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.monitor.PeerCheck;

class PeerHealthCheckTest {
    private static final Duration TIMEOUT = Duration.ofMillis(300);

    private static PeerCheck peer(Supplier<CompletionStage<String>> probe) {
        return new PeerCheck() {
            @Override
            public String peer() {
                return "spamd 127.0.0.1:783";
            }

            @Override
            public CompletionStage<String> probe(Duration timeout) {
                assertEquals(TIMEOUT, timeout);
                return probe.get();
            }
        };
    }

    private static String execute(Supplier<CompletionStage<String>> probe) {
        return ResultText.of(new PeerHealthCheck(peer(probe), TIMEOUT).execute());
    }

    @Test
    void anAnswerIsOkAndShown() {
        assertEquals("OK [OK spamd 127.0.0.1:783 answered: SPAMD/1.5 0 PONG]",
                execute(() -> CompletableFuture.completedFuture("SPAMD/1.5 0 PONG")));
    }

    @Test
    void aFailureIsCriticalWithItsReason() {
        assertEquals("CRITICAL [CRITICAL spamd 127.0.0.1:783 did not answer: Connection refused: /127.0.0.1:783]",
                execute(() -> CompletableFuture.failedFuture(new IOException("Connection refused: /127.0.0.1:783"))));
    }

    @Test
    void aProbeThatNeverCompletesIsCriticalSoonAfterItsTimeout() {
        long started = System.nanoTime();
        String result = execute(CompletableFuture::new);
        long tookMillis = (System.nanoTime() - started) / 1_000_000;
        assertEquals("CRITICAL [CRITICAL spamd 127.0.0.1:783 did not answer: no answer within 300 ms]", result);
        assertTrue(tookMillis >= 300 && tookMillis < 3000, tookMillis + " ms");
    }

    @Test
    void aProbeThatThrowsIsAnErrorOfTheCheck() {
        String result = execute(() -> {
            throw new IllegalStateException("closed");
        });
        assertEquals("HEALTH_CHECK_ERROR [HEALTH_CHECK_ERROR the probe of spamd 127.0.0.1:783 failed: java.lang.IllegalStateException: closed]",
                result);
    }
}
