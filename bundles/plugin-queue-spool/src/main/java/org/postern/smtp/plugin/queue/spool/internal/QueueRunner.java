package org.postern.smtp.plugin.queue.spool.internal;

import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.client.MessageSource;
import org.postern.smtp.plugin.queue.spool.internal.Attempt.Fate;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.RecipientState;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.State;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the queue: keeps every queued message in memory with its next attempt, starts the deliveries that are due
 * (at most {@code concurrency} at a time), records what became of each recipient, retries with backoff, bounces.
 *
 * <p>One thread of its own ({@code postern-queue-spool}) owns all that state and its timer, so nothing here needs a
 * lock; it never does I/O. Files are read and written on a small executor ({@code postern-queue-spool-files}), and
 * a message is not attempted again, deleted or flushed while its last result is being written. Deliveries run in
 * the SMTP client, which completes them on its own threads; their results come back to the state thread.
 */
final class QueueRunner {
    private static final Logger LOG = LoggerFactory.getLogger(QueueRunner.class);
    private static final int FILE_THREADS = 2;

    /** A message in the queue; {@code busy} while a delivery or a write of its state is under way. */
    private static final class Entry {
        QueuedMessage message;
        boolean busy;
        boolean deleteRequested;

        Entry(QueuedMessage message) {
            this.message = message;
        }
    }

    private record Due(Instant at, String id) {
    }

    /** A destination that failed {@code failures} times in a row: no message goes there before {@code until}. */
    private record Backoff(int failures, Instant until) {
    }

    private record Tried(String destination, Attempt attempt) {
    }

    /** A queued message as the commands show it. */
    record Listing(QueuedMessage message, boolean delivering) {
    }

    private final Spool spool;
    private final NextHop hop;
    private final Clock clock;
    private final RetrySchedule retry;
    private final Duration maxAge;
    private final int concurrency;
    private final ScheduledThreadPoolExecutor state;
    private final ExecutorService files;

    private final Map<String, Entry> entries = new HashMap<>();
    /** {@code entries.size()} as monitoring threads may read it. */
    private volatile int queued;
    private final NavigableSet<Due> due = new TreeSet<>(Comparator.comparing(Due::at).thenComparing(Due::id));
    private final Map<String, Backoff> destinations = new HashMap<>();
    private int running;
    private ScheduledFuture<?> wakeUp;
    private Instant wakeUpAt;
    /**
     * Complete once recovery has looked at the files on disk: a message is stored only after that, so that recovery
     * never takes a message being stored (content moved into active/, envelope not yet) for a leftover.
     */
    private final CompletableFuture<Void> recovered = new CompletableFuture<>();
    /** Ids being deleted while they are delivered: read by the client's commit, on its threads. */
    private final Set<String> deleting = ConcurrentHashMap.newKeySet();

    QueueRunner(Spool spool, NextHop hop, Clock clock, RetrySchedule retry, Duration maxAge, int concurrency) {
        if (concurrency < 1) {
            throw new IllegalArgumentException("delivery.concurrency must be at least 1");
        }
        this.spool = spool;
        this.hop = hop;
        this.clock = clock;
        this.retry = retry;
        this.maxAge = maxAge;
        this.concurrency = concurrency;
        this.state = new ScheduledThreadPoolExecutor(1, threads("postern-queue-spool"));
        state.setRemoveOnCancelPolicy(true);
        this.files = new ThreadPoolExecutor(FILE_THREADS, FILE_THREADS, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                threads("postern-queue-spool-files"));
    }

    /** Messages in the queue now; read from any thread. */
    int size() {
        return queued;
    }

    /** Recovers the messages on disk and starts delivering them. */
    void start() {
        onFiles(spool::recover).whenComplete((messages, error) -> {
            if (error != null) {
                LOG.error("could not read the queue; messages in it wait for the next start", error);
            } else {
                LOG.info("{} {} in the queue", messages.size(), messages.size() == 1 ? "message" : "messages");
                onState(() -> messages.forEach(this::admit));
            }
            recovered.complete(null);
        });
    }

    /**
     * Stops starting deliveries and lets the file work already handed over finish (up to 10 s). Deliveries under
     * way are cut off when the client closes; what they did is not recorded, so they are made again after the next
     * start (a recipient may get a message twice, none loses it).
     */
    void stop() {
        state.shutdownNow();
        files.shutdown();
        try {
            if (!files.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("queue files still being written after 10 s; left to the next start's recovery");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Queues a message durably (see {@link Spool#store}); completes with its id once it is on disk, or exceptionally
     * when it could not be stored or {@code commit} said no.
     */
    CompletionStage<String> enqueue(Spool.NewMessage message, Spool.Content content, BooleanSupplier commit) {
        return recovered.thenCompose(done -> onFiles(() -> spool.store(message, content, commit))).thenApply(queued -> {
            onState(() -> admit(queued));
            return queued.id();
        });
    }

    CompletionStage<List<Listing>> list() {
        return onStateAnswer(() -> entries.values().stream().map(entry -> new Listing(entry.message, entry.busy))
                .sorted(Comparator.comparing((Listing listing) -> listing.message().arrival()).thenComparing(listing -> listing.message().id()))
                .toList());
    }

    /**
     * Makes the message with this id (every message, for an empty id) due now, and forgets the backoff of the
     * destinations it waits for; a message being delivered is left alone. Completes with how many were flushed.
     */
    CompletionStage<Integer> flush(Optional<String> id) {
        return onStateAnswer(() -> {
            Instant now = clock.instant();
            int flushed = 0;
            for (Entry entry : id.map(one -> Optional.ofNullable(entries.get(one)).stream().toList()).orElseGet(() -> List.copyOf(entries.values()))) {
                if (entry.busy) {
                    continue;
                }
                entry.message.pending().forEach(recipient -> destinations.remove(hop.destinationOf(recipient.address())));
                reschedule(entry, entry.message.withSchedule(entry.message.attempts(), now));
                flushed++;
            }
            pump();
            return flushed;
        });
    }

    /**
     * Removes a message without a bounce. One being delivered is abandoned before the final dot where possible and
     * removed once its delivery ends. Completes with false when there is no such message.
     */
    CompletionStage<Boolean> delete(String id) {
        return onStateAnswer(() -> {
            Entry entry = entries.get(id);
            if (entry == null) {
                return CompletableFuture.completedFuture(false);
            }
            if (entry.busy) {
                entry.deleteRequested = true;
                deleting.add(id);
                return CompletableFuture.completedFuture(true);
            }
            entries.remove(id);
            queued = entries.size();
            due.remove(new Due(entry.message.nextAttempt(), id));
            return onFiles(() -> {
                spool.remove(id);
                return true;
            });
        }).thenCompose(removed -> removed);
    }

    private void admit(QueuedMessage message) {
        Entry entry = new Entry(message);
        entries.put(message.id(), entry);
        queued = entries.size();
        due.add(new Due(message.nextAttempt(), message.id()));
        pump();
    }

    private void reschedule(Entry entry, QueuedMessage message) {
        due.remove(new Due(entry.message.nextAttempt(), message.id()));
        entry.message = message;
        due.add(new Due(message.nextAttempt(), message.id()));
    }

    /** Starts what is due while slots are free, then sets the timer for the next due message. */
    private void pump() {
        Instant now = clock.instant();
        while (running < concurrency && !due.isEmpty() && !due.first().at().isAfter(now)) {
            Entry entry = entries.get(due.pollFirst().id());
            if (entry != null) {
                start(entry, now);
            }
        }
        if (due.isEmpty() || running >= concurrency) {
            // a delivery that ends, or a message that arrives, pumps again
            return;
        }
        Instant next = due.first().at();
        if (wakeUp != null && next.equals(wakeUpAt)) {
            return;
        }
        if (wakeUp != null) {
            wakeUp.cancel(false);
        }
        wakeUpAt = next;
        wakeUp = state.schedule(() -> {
            // the timer may fire a little before the clock reaches the due time: then the pump sets it again
            wakeUp = null;
            pump();
        }, Duration.between(now, next).toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * Sends the message to each destination of its pending recipients, one transaction per destination; a
     * destination still in its backoff is skipped.
     */
    private void start(Entry entry, Instant now) {
        QueuedMessage message = entry.message;
        entry.busy = true;
        Map<String, List<String>> groups = new LinkedHashMap<>();
        for (RecipientState recipient : message.pending()) {
            groups.computeIfAbsent(hop.destinationOf(recipient.address()), destination -> new ArrayList<>()).add(recipient.address());
        }
        Map<String, Instant> skipped = new HashMap<>();
        List<CompletableFuture<Tried>> attempts = new ArrayList<>();
        MessageSource content = MessageSource.of(message.size(), () -> spool.open(message.id()));
        BooleanSupplier stillWanted = () -> !deleting.contains(message.id());
        for (Map.Entry<String, List<String>> group : groups.entrySet()) {
            Backoff backoff = destinations.get(group.getKey());
            if (backoff != null && backoff.until().isAfter(now)) {
                skipped.put(group.getKey(), backoff.until());
                continue;
            }
            Envelope envelope = Envelope.of(message.sender(), group.getValue()).withBody(message.body());
            attempts.add(hop.deliver(group.getKey(), envelope, content, message.heloName(), stillWanted).toCompletableFuture()
                    .thenApply(attempt -> new Tried(group.getKey(), attempt)));
        }
        if (attempts.isEmpty()) {
            finish(entry, List.of(), skipped, false);
            return;
        }
        running++;
        CompletableFuture.allOf(attempts.toArray(CompletableFuture[]::new)).whenComplete((done, error) -> onState(() -> {
            if (error != null) {
                // a next hop broke its promise never to fail: keep the message for later, as if nothing was tried
                LOG.error("queue id {}: delivery failed unexpectedly", message.id(), error);
                running--;
                entry.busy = false;
                reschedule(entry, message.withSchedule(message.attempts(), clock.instant().plus(retry.initial())));
                pump();
                return;
            }
            finish(entry, attempts.stream().map(CompletableFuture::join).toList(), skipped, true);
        }));
    }

    /** Records the results: each recipient delivered, bounced or deferred; the message's next attempt; its bounce. */
    private void finish(Entry entry, List<Tried> tried, Map<String, Instant> skipped, boolean attempted) {
        if (attempted) {
            running--;
        }
        Instant now = clock.instant();
        QueuedMessage before = entry.message;
        Map<String, Attempt.Result> results = new HashMap<>();
        for (Tried one : tried) {
            recordDestination(one.destination(), one.attempt().destinationFailed(), now);
            one.attempt().results().forEach(result -> results.put(result.recipient(), result));
        }
        boolean expired = !before.arrival().plus(maxAge).isAfter(now);
        boolean deferred = false;
        List<RecipientState> recipients = new ArrayList<>();
        List<RecipientState> bounced = new ArrayList<>();
        for (RecipientState recipient : before.recipients()) {
            Attempt.Result result = recipient.state() == State.PENDING ? results.get(recipient.address()) : null;
            RecipientState updated = result == null ? recipient
                    : new RecipientState(recipient.address(), state(result.fate()), result.reply(), result.remoteMta());
            if (result != null) {
                log(before, result);
                deferred |= result.fate() == Fate.DEFERRED;
            }
            if (updated.state() == State.PENDING && expired) {
                updated = new RecipientState(updated.address(), State.FAILED, updated.lastReply(), updated.remoteMta());
                LOG.info("queue id {}: <{}> bounced: queued for longer than {}", before.id(), updated.address(), maxAge);
            }
            if (updated.state() == State.FAILED && recipient.state() == State.PENDING) {
                bounced.add(updated);
            }
            recipients.add(updated);
        }
        int attempts = before.attempts() + (deferred ? 1 : 0);
        Instant next = deferred ? now.plus(retry.delayAfter(attempts)) : null;
        for (Instant until : skipped.values()) {
            next = next == null || until.isBefore(next) ? until : next;
        }
        QueuedMessage after = before.withRecipients(recipients).withSchedule(attempts, next == null ? now : next);
        entry.message = after;
        if (!attempted && bounced.isEmpty()) {
            // only waiting for destinations in backoff: nothing new to write, and the pump that started it goes on
            entry.busy = false;
            due.add(new Due(after.nextAttempt(), after.id()));
            return;
        }
        persist(entry, before, after, bounced, expired);
    }

    private void recordDestination(String destination, boolean failed, Instant now) {
        if (!failed) {
            destinations.remove(destination);
            return;
        }
        Backoff backoff = destinations.get(destination);
        if (backoff != null && backoff.until().isAfter(now)) {
            // another message's attempt, made at the same time, already counted this failure
            return;
        }
        int failures = backoff == null ? 1 : backoff.failures() + 1;
        Duration delay = retry.delayAfter(failures);
        destinations.put(destination, new Backoff(failures, now.plus(delay)));
        LOG.info("destination {} is down (failure {} in a row): not tried again for {} s", destination, failures, delay.toSeconds());
    }

    /**
     * Writes the new state (or removes a finished message), after the bounce for the recipients that failed is
     * queued: a crash in between bounces them twice rather than never. When the disk fails, the message keeps its
     * old state and is tried again after {@code retry.initial}.
     */
    private void persist(Entry entry, QueuedMessage before, QueuedMessage after, List<RecipientState> bounced, boolean expired) {
        boolean finished = after.pending().isEmpty();
        onFiles(() -> {
            QueuedMessage bounce = null;
            if (!bounced.isEmpty()) {
                bounce = after.isBounce() ? null : queueBounce(after, bounced, expired);
                if (after.isBounce()) {
                    LOG.warn("queue id {}: a bounce that could not be delivered is dropped (no bounce for a bounce)", after.id());
                }
            }
            if (finished) {
                spool.remove(after.id());
            } else {
                spool.update(after);
            }
            return Optional.ofNullable(bounce);
        }).whenComplete((bounce, error) -> onState(() -> {
            entry.busy = false;
            if (error != null) {
                LOG.error("queue id {}: could not record the delivery's result; tried again later", after.id(), error);
                entry.message = before.withSchedule(before.attempts(), clock.instant().plus(retry.initial()));
            } else {
                bounce.ifPresent(this::admit);
            }
            if (entry.deleteRequested) {
                entries.remove(after.id());
                queued = entries.size();
                deleting.remove(after.id());
                onFiles(() -> {
                    spool.remove(after.id());
                    return null;
                });
            } else if (finished && error == null) {
                entries.remove(after.id());
                queued = entries.size();
            } else {
                due.add(new Due(entry.message.nextAttempt(), after.id()));
            }
            pump();
        }));
    }

    private QueuedMessage queueBounce(QueuedMessage original, List<RecipientState> failed, boolean expired) throws Exception {
        Instant now = clock.instant();
        QueuedMessage bounce = spool.store(new Spool.NewMessage("", List.of(original.sender()), original.heloName(), Envelope.Body.UNKNOWN), out -> {
            try (InputStream content = spool.open(original.id())) {
                Bounce.write(out, original, failed, expired, maxAge, content, original.heloName(), now);
            }
        }, () -> true);
        LOG.info("queue id {}: bounce to <{}> queued as {}", original.id(), original.sender(), bounce.id());
        return bounce;
    }

    private static State state(Fate fate) {
        return switch (fate) {
            case DELIVERED -> State.DELIVERED;
            case FAILED -> State.FAILED;
            case DEFERRED -> State.PENDING;
        };
    }

    private static void log(QueuedMessage message, Attempt.Result result) {
        String by = result.remoteMta().isEmpty() ? "" : " by " + result.remoteMta().replaceFirst("^[^;]*; ", "");
        switch (result.fate()) {
            case DELIVERED -> LOG.info("queue id {}: <{}> delivered{}: {}", message.id(), result.recipient(), by, result.reply());
            case FAILED -> LOG.info("queue id {}: <{}> bounced{}: {}", message.id(), result.recipient(), by, result.reply());
            case DEFERRED -> LOG.info("queue id {}: <{}> deferred{}: {}", message.id(), result.recipient(), by, result.reply());
        }
    }

    private void onState(Runnable task) {
        try {
            state.execute(task);
        } catch (RejectedExecutionException stopped) {
            // stopping: what was not recorded is found on disk at the next start
        }
    }

    private <T> CompletableFuture<T> onStateAnswer(Callable<T> call) {
        return run(state, call);
    }

    private <T> CompletableFuture<T> onFiles(Callable<T> call) {
        return run(files, call);
    }

    private static <T> CompletableFuture<T> run(ExecutorService executor, Callable<T> call) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    result.complete(call.call());
                } catch (Exception | LinkageError e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException stopped) {
            result.completeExceptionally(stopped);
        }
        return result;
    }

    private static ThreadFactory threads(String name) {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, name + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
