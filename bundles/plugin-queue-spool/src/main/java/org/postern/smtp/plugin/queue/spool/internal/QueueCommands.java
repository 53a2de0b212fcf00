package org.postern.smtp.plugin.queue.spool.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.RecipientState;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.State;

/**
 * The queue's shell commands (Gogo in the standalone server, Karaf's shell): {@code postern:queue} lists it,
 * {@code postern:flush [id]} tries now, {@code postern:delete <id>} removes a message without a bounce.
 */
@Component(service = QueueCommands.class, property = {
    "osgi.command.scope=postern",
    "osgi.command.function=queue",
    "osgi.command.function=flush",
    "osgi.command.function=delete"
})
public final class QueueCommands {
    private final DeliveryEngine engine;

    @Activate
    public QueueCommands(@Reference DeliveryEngine engine) {
        this.engine = engine;
    }

    /** Each queued message: id, age, sender, attempts and next attempt, and each pending recipient with its last reply. */
    public String queue() throws Exception {
        return describe(await(engine.list()), Instant.now());
    }

    /** Tries every queued message now, whatever its backoff or its destinations'. */
    public String flush() throws Exception {
        return await(engine.flush(Optional.empty())) + " messages flushed.";
    }

    /** Tries this message now. */
    public String flush(String id) throws Exception {
        return await(engine.flush(Optional.of(id))) == 1 ? id + " flushed." : "No message " + id + " waits in the queue (none, or being delivered).";
    }

    /** Removes this message from the queue, without a bounce. */
    public String delete(String id) throws Exception {
        return await(engine.delete(id)) ? id + " deleted." : "No message " + id + " in the queue.";
    }

    static String describe(List<QueueRunner.Listing> listings, Instant now) {
        if (listings.isEmpty()) {
            return "The queue is empty.";
        }
        StringBuilder text = new StringBuilder();
        for (QueueRunner.Listing listing : listings) {
            QueuedMessage message = listing.message();
            text.append(message.id()).append("  age ").append(age(Duration.between(message.arrival(), now))).append("  from <")
                    .append(message.sender()).append(">  ").append(message.size()).append(" octets  ").append(message.attempts())
                    .append(message.attempts() == 1 ? " attempt, " : " attempts, ");
            text.append(listing.delivering() ? "being delivered"
                    : message.nextAttempt().isAfter(now) ? "next in " + age(Duration.between(now, message.nextAttempt())) : "next now").append('\n');
            for (RecipientState recipient : message.recipients()) {
                if (recipient.state() == State.PENDING) {
                    text.append("  <").append(recipient.address()).append(">  ")
                            .append(recipient.lastReply().isEmpty() ? "not tried yet" : recipient.lastReply())
                            .append(recipient.remoteMta().isEmpty() ? "" : " (" + recipient.remoteMta() + ")").append('\n');
                }
            }
        }
        return text.append(listings.size()).append(listings.size() == 1 ? " message." : " messages.").toString();
    }

    /** {@code 2d 3h}, {@code 4h 5m}, {@code 6m 7s} or {@code 8s}: the two largest units. */
    static String age(Duration duration) {
        long seconds = Math.max(0, duration.toSeconds());
        if (seconds >= 86_400) {
            return seconds / 86_400 + "d " + seconds % 86_400 / 3600 + "h";
        }
        if (seconds >= 3600) {
            return seconds / 3600 + "h " + seconds % 3600 / 60 + "m";
        }
        return seconds >= 60 ? seconds / 60 + "m " + seconds % 60 + "s" : seconds + "s";
    }

    private static <T> T await(CompletionStage<T> answer) throws InterruptedException, ExecutionException, TimeoutException {
        return answer.toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
