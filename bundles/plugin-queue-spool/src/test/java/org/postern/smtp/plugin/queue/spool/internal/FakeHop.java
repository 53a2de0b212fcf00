package org.postern.smtp.plugin.queue.spool.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.client.MessageSource;
import org.postern.smtp.client.Reply;

/**
 * A next hop whose destinations are the recipients' domains and whose answers the test gives: each delivery is a
 * {@link Call} the test takes with {@link #next()} and answers, or, with {@link #answering}, answered at once.
 */
final class FakeHop implements NextHop {
    /** One delivery: its destination, envelope and content as read, and the answer the test completes. */
    record Call(String destination, Envelope envelope, String content, CompletableFuture<Attempt> answer) {
        void answer(Attempt.Fate fate, String reply) {
            answer.complete(all(this, fate, reply));
        }

        /** No connection to the destination at all. */
        void answerDown() {
            answer.complete(Attempt.deferred(envelope.recipients(), Reply.of(451, "4.4.1", "Cannot connect to mx." + destination)));
        }
    }

    private final BlockingQueue<Call> calls = new LinkedBlockingQueue<>();
    private volatile Function<Call, Attempt> answering;

    /** Answers each delivery at once with what {@code answers} makes of it. */
    FakeHop answering(Function<Call, Attempt> answers) {
        this.answering = answers;
        return this;
    }

    /** Every recipient of the call with this fate and reply, from {@code mx.<destination>}. */
    static Attempt all(Call call, Attempt.Fate fate, String reply) {
        return new Attempt(call.envelope().recipients().stream().map(recipient -> new Attempt.Result(recipient, fate, reply, "dns; mx." + call.destination()))
                .toList(), false);
    }

    @Override
    public String destinationOf(String recipient) {
        return recipient.substring(recipient.lastIndexOf('@') + 1);
    }

    @Override
    public CompletionStage<Attempt> deliver(String destination, Envelope envelope, MessageSource message, String heloName, BooleanSupplier commit) {
        String content;
        try (InputStream in = message.open()) {
            content = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Call call = new Call(destination, envelope, content, new CompletableFuture<>());
        calls.add(call);
        Function<Call, Attempt> answers = answering;
        if (answers != null) {
            call.answer().complete(answers.apply(call));
        }
        return call.answer();
    }

    /** The next delivery, waited for up to 10 s. */
    Call next() throws InterruptedException {
        Call call = calls.poll(10, TimeUnit.SECONDS);
        if (call == null) {
            throw new AssertionError("no delivery within 10 s");
        }
        return call;
    }

    /** The deliveries made and not yet taken. */
    List<Call> taken() {
        List<Call> all = new ArrayList<>();
        calls.drainTo(all);
        return all;
    }
}
