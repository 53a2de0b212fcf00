package org.postern.smtp.api;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A few threads of a plugin's own for calls that only a blocking API offers (JNDI, a JAAS login, a password hash
 * that takes milliseconds of CPU): a hook hands the call over and answers {@link HookResult#later} with it, so no
 * hook thread waits, and what the threads and their queue cannot hold fails at once, for the plugin to answer with
 * a temporary failure instead of letting sessions pile up behind a slow backend. Create one per component, close it
 * when the component deactivates.
 *
 * @since 1.4
 */
public final class BlockingCalls implements AutoCloseable {
    private final ThreadPoolExecutor executor;

    /**
     * @param name the threads' name, numbered ({@code postern-<name>-1} …), as thread dumps show it
     * @param threads calls that run at a time
     * @param queued calls that may wait for a thread
     */
    public BlockingCalls(String name, int threads, int queued) {
        AtomicInteger count = new AtomicInteger();
        executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(queued), task -> {
            Thread thread = new Thread(task, "postern-" + name + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Runs the call on one of the threads. The stage fails with {@link RejectedExecutionException} at once when
     * every thread is busy and the queue is full, or when this is closed, and with the call's exception if it
     * throws one.
     */
    public <T> CompletableFuture<T> call(Callable<T> call) {
        Call<T> task = new Call<>(call);
        try {
            executor.execute(task);
        } catch (RejectedExecutionException full) {
            task.result.completeExceptionally(full);
        }
        return task.result;
    }

    /**
     * As {@link #call(Callable)}, and the stage fails with {@link TimeoutException} once {@code timeout} has passed
     * since the call was handed over; the call is then interrupted, or never started.
     */
    public <T> CompletableFuture<T> call(Callable<T> call, Duration timeout) {
        CompletableFuture<T> result = call(call);
        result.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
        return result;
    }

    /**
     * Interrupts the calls under way (their stages complete as the calls end) and fails the queued ones with
     * {@link RejectedExecutionException}, so that no hook waits for a plugin that is gone.
     */
    @Override
    public void close() {
        for (Runnable queued : executor.shutdownNow()) {
            ((Call<?>) queued).result.completeExceptionally(new RejectedExecutionException("the plugin stopped"));
        }
    }

    private static final class Call<T> implements Runnable {
        private final Callable<T> call;
        private final CompletableFuture<T> result = new CompletableFuture<>();
        private volatile Thread runner;

        Call(Callable<T> call) {
            this.call = call;
            // a call that timed out is interrupted; the pool clears the flag before the thread's next call
            result.whenComplete((value, error) -> {
                Thread running = runner;
                if (error instanceof TimeoutException && running != null) {
                    running.interrupt();
                }
            });
        }

        @Override
        public void run() {
            if (result.isDone()) {
                return;
            }
            runner = Thread.currentThread();
            try {
                result.complete(call.call());
            } catch (Exception | LinkageError e) {
                result.completeExceptionally(e);
            } finally {
                runner = null;
            }
        }
    }
}
