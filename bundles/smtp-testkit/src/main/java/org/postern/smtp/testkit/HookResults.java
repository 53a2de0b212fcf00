package org.postern.smtp.testkit;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.postern.smtp.api.HookResult;

/** Plugin answers as a unit test sees them. */
public final class HookResults {
    private HookResults() {
    }

    /**
     * The answer itself, or for {@link HookResult#later} the answer it completes with, waiting at most 10 seconds (a
     * test that hangs fails instead).
     */
    public static HookResult settled(HookResult result) {
        if (result.pending().isEmpty()) {
            return result;
        }
        try {
            return result.pending().get().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a plugin's later answer", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("a plugin's later answer did not complete", e);
        }
    }
}
