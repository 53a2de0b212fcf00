package org.postern.health.internal;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.felix.hc.api.FormattingResultLog;
import org.apache.felix.hc.api.HealthCheck;
import org.apache.felix.hc.api.Result;
import org.postern.smtp.api.monitor.PeerCheck;

/**
 * One daemon a plugin depends on, asked once per execution: OK with its answer, CRITICAL with why it gave none. The
 * health check executor's threads may wait, so this one waits for the probe, a little longer than the probe's own
 * timeout so that the plugin's reason comes first.
 */
final class PeerHealthCheck implements HealthCheck {
    /** What the probe is given beyond its timeout before this check stops waiting. */
    private static final long GRACE_MILLIS = 500;

    private final PeerCheck peer;
    private final Duration timeout;

    PeerHealthCheck(PeerCheck peer, Duration timeout) {
        this.peer = peer;
        this.timeout = timeout;
    }

    @Override
    public Result execute() {
        FormattingResultLog log = new FormattingResultLog();
        CompletableFuture<String> answer = new CompletableFuture<>();
        try {
            peer.probe(timeout).whenComplete((said, failure) -> {
                if (failure == null) {
                    answer.complete(said);
                } else {
                    answer.completeExceptionally(failure);
                }
            });
            log.info("{} answered: {}", peer.peer(), answer.get(timeout.toMillis() + GRACE_MILLIS, TimeUnit.MILLISECONDS));
        } catch (ExecutionException failed) {
            log.critical("{} did not answer: {}", peer.peer(), why(failed.getCause()));
        } catch (TimeoutException late) {
            log.critical("{} did not answer: {}", peer.peer(), why(late));
        } catch (InterruptedException stopped) {
            Thread.currentThread().interrupt();
            log.critical("{} was not asked to the end: the check was interrupted", peer.peer());
        } catch (RuntimeException broken) {
            log.healthCheckError("the probe of {} failed: {}", peer.peer(), broken.toString());
        }
        return new Result(log);
    }

    /** The reason as a person reads it: the failure's own message, else what it is. */
    private String why(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause.getMessage() != null) {
            return cause.getMessage();
        }
        return cause instanceof TimeoutException ? "no answer within " + timeout.toMillis() + " ms" : cause.toString();
    }
}
