package org.postern.smtp.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class BlockingCallsTest {
    private static Throwable failure(CompletableFuture<?> stage) throws Exception {
        try {
            stage.get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("the stage completed normally");
    }

    @Test
    void aCallRunsOnAThreadOfItsOwnAndItsExceptionFailsTheStage() throws Exception {
        try (BlockingCalls calls = new BlockingCalls("test", 1, 1)) {
            assertEquals("postern-test-1", calls.call(() -> Thread.currentThread().getName()).get(5, TimeUnit.SECONDS));
            assertInstanceOf(IOException.class, failure(calls.call(() -> {
                throw new IOException("backend down");
            })));
        }
    }

    @Test
    void whatTheThreadsAndTheQueueCannotHoldFailsAtOnce() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (BlockingCalls calls = new BlockingCalls("test", 1, 1)) {
            CompletableFuture<Boolean> running = calls.call(() -> release.await(5, TimeUnit.SECONDS));
            CompletableFuture<Boolean> queued = calls.call(() -> true);
            CompletableFuture<Boolean> refused = calls.call(() -> true);
            assertTrue(refused.isCompletedExceptionally());
            assertInstanceOf(RejectedExecutionException.class, failure(refused));
            release.countDown();
            assertTrue(running.get(5, TimeUnit.SECONDS));
            assertTrue(queued.get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void aCallPastItsTimeoutIsInterruptedAndItsStageFails() throws Exception {
        CompletableFuture<Boolean> interrupted = new CompletableFuture<>();
        try (BlockingCalls calls = new BlockingCalls("test", 1, 1)) {
            CompletableFuture<Void> hanging = calls.call(() -> {
                try {
                    Thread.sleep(10_000);
                } catch (InterruptedException e) {
                    interrupted.complete(true);
                }
                return null;
            }, Duration.ofMillis(100));
            assertInstanceOf(TimeoutException.class, failure(hanging));
            assertTrue(interrupted.get(5, TimeUnit.SECONDS));
            assertEquals("free again", calls.call(() -> "free again").get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void closingFailsTheQueuedCallsAtOnceAndInterruptsTheRunningOne() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        BlockingCalls calls = new BlockingCalls("test", 1, 1);
        CompletableFuture<String> running = calls.call(() -> {
            started.countDown();
            Thread.sleep(10_000);
            return "slept";
        });
        CompletableFuture<String> queued = calls.call(() -> "never");
        assertTrue(started.await(5, TimeUnit.SECONDS));
        calls.close();
        assertInstanceOf(RejectedExecutionException.class, failure(queued));
        assertInstanceOf(InterruptedException.class, failure(running));
        assertInstanceOf(RejectedExecutionException.class, failure(calls.call(() -> "after")));
    }
}
