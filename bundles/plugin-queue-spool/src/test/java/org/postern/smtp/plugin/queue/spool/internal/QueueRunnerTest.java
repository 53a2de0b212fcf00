package org.postern.smtp.plugin.queue.spool.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.client.MessageSource;
import org.postern.smtp.plugin.queue.spool.internal.Attempt.Fate;
import org.postern.smtp.plugin.queue.spool.internal.FakeHop.Call;
import org.postern.smtp.plugin.queue.spool.internal.QueueRunner.Listing;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.RecipientState;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.State;
import org.postern.smtp.testkit.TestClock;

class QueueRunnerTest {
    private static final String MESSAGE = "Subject: hello\r\nFrom: a@example.org\r\n\r\nbody\r\n";
    private static final Duration HOUR = Duration.ofHours(1);
    private static final Duration FIVE_DAYS = Duration.ofDays(5);

    @TempDir
    Path dir;

    private final List<QueueRunner> runners = new ArrayList<>();

    @AfterEach
    void stopRunners() {
        runners.forEach(QueueRunner::stop);
    }

    private QueueRunner runner(NextHop hop, Clock clock, Duration retryInitial, int concurrency) throws IOException {
        QueueRunner runner = new QueueRunner(new Spool(dir, clock), hop, clock, new RetrySchedule(retryInitial, retryInitial.multipliedBy(8)), FIVE_DAYS,
                concurrency);
        runners.add(runner);
        runner.start();
        return runner;
    }

    private QueueRunner runner(NextHop hop) throws IOException {
        return runner(hop, Clock.systemUTC(), HOUR, 20);
    }

    private static String enqueue(QueueRunner runner, String sender, String... recipients) throws Exception {
        return runner.enqueue(new Spool.NewMessage(sender, List.of(recipients), "mx.example.org", Envelope.Body.UNKNOWN),
                out -> out.write(MESSAGE.getBytes(StandardCharsets.US_ASCII)), () -> true).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static List<Listing> list(QueueRunner runner) throws Exception {
        return runner.list().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static QueuedMessage queued(QueueRunner runner, String id) throws Exception {
        return list(runner).stream().map(Listing::message).filter(message -> message.id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError(id + " is not queued"));
    }

    /** Waits until the message's first attempt is recorded: it waits for its next one, delivered by nobody. */
    private static void awaitRecorded(QueueRunner runner, String id) throws Exception {
        await(id + "'s attempt recorded", () -> list(runner).stream()
                .anyMatch(listing -> listing.message().id().equals(id) && listing.message().attempts() == 1 && !listing.delivering()));
    }

    /** Polls until the condition holds, for up to 10 s. */
    private static void await(String what, Check check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + " within 10 s");
            }
            Thread.sleep(10);
        }
    }

    @FunctionalInterface
    private interface Check {
        boolean holds() throws Exception;
    }

    private List<String> activeFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("active"))) {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aDeliveredMessageLeavesTheQueueAndItsFiles() throws Exception {
        FakeHop hop = new FakeHop();
        QueueRunner runner = runner(hop);
        String id = enqueue(runner, "a@example.org", "b@example.net");
        Call call = hop.next();
        assertEquals("a@example.org", call.envelope().sender());
        assertEquals(List.of("b@example.net"), call.envelope().recipients());
        assertEquals(MESSAGE, call.content());
        assertTrue(list(runner).get(0).delivering());
        call.answer(Fate.DELIVERED, "250 2.0.0 Ok: queued as X");
        await("the queue empty", () -> list(runner).isEmpty());
        assertEquals(List.of(), activeFiles());
        assertTrue(id.matches("[0-9A-Z]+"));
    }

    @Test
    void recipientsOfOneDomainShareATransactionAndEachDomainHasItsOwn() throws Exception {
        FakeHop hop = new FakeHop().answering(call -> FakeHop.all(call, Fate.DELIVERED, "250 Ok"));
        QueueRunner runner = runner(hop);
        enqueue(runner, "a@example.org", "b@one.example", "c@two.example", "d@one.example");
        List<Call> calls = List.of(hop.next(), hop.next());
        assertEquals(List.of("one.example [b@one.example, d@one.example]", "two.example [c@two.example]"),
                calls.stream().map(call -> call.destination() + " " + call.envelope().recipients()).sorted().toList());
        await("the queue empty", () -> list(runner).isEmpty());
    }

    @Test
    void aRefusedRecipientIsBouncedFromTheNullSenderWhileTheOthersAreDelivered() throws Exception {
        FakeHop hop = new FakeHop().answering(call -> new Attempt(call.envelope().recipients().stream()
                .map(recipient -> recipient.startsWith("nobody@") ? new Attempt.Result(recipient, Fate.FAILED, "550 5.1.1 <nobody@example.net>: User unknown",
                        "dns; mx.example.net") : new Attempt.Result(recipient, Fate.DELIVERED, "250 2.1.5 Ok", "dns; mx.example.net"))
                .toList(), false));
        QueueRunner runner = runner(hop);
        String id = enqueue(runner, "a@example.org", "b@example.net", "nobody@example.net");
        assertEquals(List.of("b@example.net", "nobody@example.net"), hop.next().envelope().recipients());
        Call bounce = hop.next();
        assertEquals("", bounce.envelope().sender());
        assertEquals(List.of("a@example.org"), bounce.envelope().recipients());
        assertTrue(bounce.content().contains("\r\nX-Postern-Queue-ID: " + id + "\r\n"), bounce.content());
        assertTrue(bounce.content().contains("\r\nFinal-Recipient: rfc822; nobody@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                + "Remote-MTA: dns; mx.example.net\r\nDiagnostic-Code: smtp; 550 5.1.1 <nobody@example.net>: User unknown\r\n"), bounce.content());
        assertFalse(bounce.content().contains("Final-Recipient: rfc822; b@example.net"), bounce.content());
        await("the queue empty", () -> list(runner).isEmpty());
    }

    @Test
    void aBounceThatFailsIsDroppedNotBouncedAgain() throws Exception {
        FakeHop hop = new FakeHop().answering(call -> FakeHop.all(call, Fate.FAILED, "550 5.1.1 User unknown"));
        QueueRunner runner = runner(hop);
        enqueue(runner, "", "gone@example.net");
        hop.next();
        await("the queue empty", () -> list(runner).isEmpty());
        assertEquals(List.of(), hop.taken());
    }

    @Test
    void aDeferredRecipientIsTriedAgainAfterTheBackoffWithItsLastReplyKept() throws Exception {
        FakeHop hop = new FakeHop();
        Duration retry = Duration.ofMillis(300);
        QueueRunner runner = runner(hop, Clock.systemUTC(), retry, 20);
        String id = enqueue(runner, "a@example.org", "b@example.net");
        hop.next().answer(Fate.DEFERRED, "451 4.2.0 Greylisted");
        long deferredAt = System.nanoTime();
        awaitRecorded(runner, id);
        QueuedMessage waiting = queued(runner, id);
        assertEquals(List.of(new RecipientState("b@example.net", State.PENDING, "451 4.2.0 Greylisted", "dns; mx.example.net")), waiting.recipients());
        assertTrue(waiting.nextAttempt().isAfter(Instant.now()), waiting.toString());
        Call again = hop.next();
        assertTrue(System.nanoTime() - deferredAt >= retry.toNanos() - TimeUnit.MILLISECONDS.toNanos(20), "tried again before the backoff ended");
        again.answer(Fate.DELIVERED, "250 Ok");
        await("the queue empty", () -> list(runner).isEmpty());
    }

    /** A clock that runs at 9/10 of the real pace: the timer for a retry fires before the clock says it is due. */
    private static final class SlowClock extends Clock {
        private final Instant start = Instant.now();
        private final long startNanos = System.nanoTime();

        @Override
        public Instant instant() {
            return start.plusNanos((System.nanoTime() - startNanos) * 9 / 10);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    @Test
    void aRetryIsMadeEvenWhenItsTimerFiresBeforeTheClockSaysItIsDue() throws Exception {
        FakeHop hop = new FakeHop();
        QueueRunner runner = runner(hop, new SlowClock(), Duration.ofMillis(300), 20);
        enqueue(runner, "a@example.org", "b@example.net");
        hop.next().answer(Fate.DEFERRED, "451 4.2.0 Greylisted");
        hop.next().answer(Fate.DELIVERED, "250 Ok");
        await("the queue empty", () -> list(runner).isEmpty());
    }

    @Test
    void aDestinationThatIsDownHoldsBackOtherMessagesForItUntilItsBackoffEndsOrAFlush() throws Exception {
        FakeHop hop = new FakeHop();
        QueueRunner runner = runner(hop);
        String first = enqueue(runner, "a@example.org", "b@down.example");
        hop.next().answerDown();
        awaitRecorded(runner, first);
        Instant backoffEnd = queued(runner, first).nextAttempt();

        String second = enqueue(runner, "a@example.org", "c@down.example");
        enqueue(runner, "a@example.org", "d@up.example");
        Call other = hop.next();
        assertEquals("up.example", other.destination(), "another destination is not held back");
        other.answer(Fate.DELIVERED, "250 Ok");
        await("the other message delivered", () -> list(runner).size() == 2);
        QueuedMessage held = queued(runner, second);
        assertEquals(0, held.attempts());
        assertEquals(backoffEnd, held.nextAttempt(), "waits for the destination's backoff");

        assertEquals(2, runner.flush(Optional.empty()).toCompletableFuture().get(10, TimeUnit.SECONDS));
        List<Call> retried = List.of(hop.next(), hop.next());
        retried.forEach(call -> call.answer(Fate.DELIVERED, "250 Ok"));
        await("the queue empty", () -> list(runner).isEmpty());
    }

    @Test
    void atMostConcurrencyMessagesAreDeliveredAtOnce() throws Exception {
        FakeHop hop = new FakeHop();
        QueueRunner runner = runner(hop, Clock.systemUTC(), HOUR, 2);
        for (String domain : List.of("one.example", "two.example", "three.example")) {
            enqueue(runner, "a@example.org", "b@" + domain);
        }
        Call first = hop.next();
        hop.next();
        List<Listing> listed = list(runner);
        assertEquals(3, listed.size());
        assertEquals(2, listed.stream().filter(Listing::delivering).count());
        assertEquals(List.of(), hop.taken());
        first.answer(Fate.DELIVERED, "250 Ok");
        assertEquals("b@three.example", hop.next().envelope().recipients().get(0));
    }

    @Test
    void aMessageQueuedLongerThanMaxAgeBouncesWithItsLastTemporaryFailure() throws Exception {
        TestClock clock = new TestClock(Instant.parse("2025-03-01T10:00:00Z"));
        FakeHop hop = new FakeHop().answering(call -> call.envelope().sender().isEmpty() ? FakeHop.all(call, Fate.DELIVERED, "250 Ok")
                : FakeHop.all(call, Fate.DEFERRED, "452 4.2.2 Mailbox full"));
        QueueRunner runner = runner(hop, clock, HOUR, 20);
        String id = enqueue(runner, "a@example.org", "b@example.net");
        hop.next();
        awaitRecorded(runner, id);
        clock.advance(FIVE_DAYS);
        runner.flush(Optional.of(id)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        hop.next();
        Call bounce = hop.next();
        assertEquals(List.of("a@example.org"), bounce.envelope().recipients());
        assertTrue(bounce.content().contains("could not be delivered to one or more recipients within 5 days"), bounce.content());
        assertTrue(bounce.content().contains("Status: 4.2.2\r\nRemote-MTA: dns; mx.example.net\r\nDiagnostic-Code: smtp; 452 4.2.2 Mailbox full\r\n"),
                bounce.content());
        await("the queue empty", () -> list(runner).isEmpty());
    }

    /**
     * A kill -9 is simulated by leaving a runner as it is and starting another on the same folder: a message whose
     * delivery was under way is delivered at once, one that was deferred keeps its attempts, reply and schedule.
     */
    @Test
    void aRestartRecoversEveryQueuedMessageWithItsState() throws Exception {
        FakeHop killedHop = new FakeHop();
        QueueRunner killed = runner(killedHop);
        String deferred = enqueue(killed, "a@example.org", "b@slow.example");
        killedHop.next().answer(Fate.DEFERRED, "451 4.3.0 Try later");
        awaitRecorded(killed, deferred);
        String inFlight = enqueue(killed, "a@example.org", "c@example.net");
        killedHop.next();

        FakeHop hop = new FakeHop().answering(call -> FakeHop.all(call, Fate.DELIVERED, "250 Ok"));
        QueueRunner restarted = new QueueRunner(new Spool(dir, Clock.systemUTC()), hop, Clock.systemUTC(), new RetrySchedule(HOUR, HOUR), FIVE_DAYS, 20);
        runners.add(restarted);
        restarted.start();
        assertEquals(List.of("c@example.net"), hop.next().envelope().recipients());
        await("the message in flight delivered", () -> list(restarted).size() == 1);
        QueuedMessage waiting = queued(restarted, deferred);
        assertEquals(1, waiting.attempts());
        assertEquals("451 4.3.0 Try later", waiting.recipients().get(0).lastReply());
        assertTrue(waiting.nextAttempt().isAfter(Instant.now().plus(Duration.ofMinutes(59))), waiting.toString());
        assertFalse(list(restarted).stream().anyMatch(listing -> listing.message().id().equals(inFlight)));
    }

    @Test
    void aDeletedMessageIsGoneWithoutABounce() throws Exception {
        FakeHop hop = new FakeHop().answering(call -> FakeHop.all(call, Fate.DEFERRED, "451 Later"));
        QueueRunner runner = runner(hop);
        String id = enqueue(runner, "a@example.org", "b@example.net");
        hop.next();
        awaitRecorded(runner, id);
        assertTrue(runner.delete(id).toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertEquals(List.of(), list(runner));
        assertEquals(List.of(), activeFiles());
        assertFalse(runner.delete(id).toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertEquals(List.of(), hop.taken());
    }

    @Test
    void aMessageDeletedWhileItIsDeliveredIsAbandonedAtTheCommitAndRemoved() throws Exception {
        List<BooleanSupplier> commits = new ArrayList<>();
        FakeHop hop = new FakeHop();
        NextHop recordingCommits = new NextHop() {
            @Override
            public String destinationOf(String recipient) {
                return hop.destinationOf(recipient);
            }

            @Override
            public CompletionStage<Attempt> deliver(String destination, Envelope envelope,
                    MessageSource message, String heloName, BooleanSupplier commit) {
                commits.add(commit);
                return hop.deliver(destination, envelope, message, heloName, commit);
            }
        };
        QueueRunner runner = runner(recordingCommits);
        String id = enqueue(runner, "a@example.org", "b@example.net");
        Call call = hop.next();
        assertTrue(commits.get(0).getAsBoolean());
        assertTrue(runner.delete(id).toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertFalse(commits.get(0).getAsBoolean(), "the client is told not to send the final dot");
        call.answer(Fate.DEFERRED, "451 4.3.0 Not committed");
        await("the message removed", () -> list(runner).isEmpty() && activeFiles().isEmpty());
    }
}
