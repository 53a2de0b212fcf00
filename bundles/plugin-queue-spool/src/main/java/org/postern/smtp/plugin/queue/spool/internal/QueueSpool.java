package org.postern.smtp.plugin.queue.spool.internal;

import java.io.InputStream;
import java.util.concurrent.CompletionException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.QueueHook;
import org.postern.smtp.api.Transaction;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.postern.smtp.client.Envelope;

/**
 * Puts each message into Postern's own queue, durably, and answers {@code 250 Queued as <id>} once it is on disk;
 * the {@link DeliveryEngine} delivers it from there. The files are written on the engine's file threads (the hook
 * answers later), and moved into the queue only when {@link HookContext#commit()} confirms the client still waits,
 * so a call that timed out queues nothing. Any failure to store it (a full or unwritable disk) is {@code 451}.
 */
@Component(service = QueueHook.class, configurationPid = DeliveryEngine.PID)
@PosternPlugin("queue/spool")
@PosternHook("queue")
@HookOrder(900)
public final class QueueSpool implements QueueHook {
    private final DeliveryEngine engine;

    @Activate
    public QueueSpool(@Reference DeliveryEngine engine) {
        this.engine = engine;
    }

    @Override
    public HookResult onQueue(HookContext ctx) {
        Transaction transaction = ctx.transaction();
        Spool.NewMessage message = new Spool.NewMessage(transaction.sender().map(QueueSpool::path).orElse(""),
                transaction.recipients().stream().map(recipient -> path(recipient.address())).toList(),
                engine.heloName(ctx.config("me", "localhost")),
                "8BITMIME".equalsIgnoreCase(transaction.mailParameters().get("body")) ? Envelope.Body.EIGHT_BIT_MIME : Envelope.Body.UNKNOWN);
        return HookResult.later(engine.enqueue(message, out -> {
            try (InputStream content = transaction.message()) {
                content.transferTo(out);
            }
        }, ctx::commit).handle((id, error) -> {
            if (error == null) {
                ctx.log(LogLevel.INFO, "queued as " + id + " for " + String.join(", ", message.recipients()));
                return HookResult.ok("Queued as " + id);
            }
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            ctx.log(cause instanceof Spool.NotCommitted ? LogLevel.INFO : LogLevel.ERROR, "not queued: " + cause);
            return HookResult.denySoft("Queue error, please try again later").withReplyCode(451).withEnhancedStatus("4.3.0");
        }));
    }

    /** The path without angle brackets, its local part quoted where it must be; empty for the null sender. */
    static String path(Address address) {
        String path = address.format();
        return path.substring(1, path.length() - 1);
    }
}
