package org.postern.smtp.client;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import org.postern.smtp.client.internal.Engine;

/**
 * An asynchronous SMTP and LMTP client with a connection pool per {@link Destination}.
 *
 * <p>For each message it takes a connection (set up with EHLO or LHLO, STARTTLS and AUTH as the destination asks,
 * or an idle one from the pool), sends MAIL, RCPT and DATA (pipelined when the server offers PIPELINING), the
 * message dot-stuffed, and completes with a {@link Delivery}. Failures, its own included, are replies in the
 * delivery, never an exceptional completion. A connection goes back to the pool after RSET.
 *
 * <p>Nothing here blocks: connections and replies are handled on the client's own Netty event loop, and the blocking
 * work (resolving a host name, reading the message) runs on the executor given to {@link #create}. The stage
 * completes on an event loop thread, so what a caller chains on it must not block either.
 */
public final class SmtpClient implements AutoCloseable {
    private final Engine engine;

    private SmtpClient(Engine engine) {
        this.engine = engine;
    }

    /**
     * A client with these settings; {@code blocking} runs host name lookups and reads messages, and should allow
     * as many tasks at once as messages are to be sent at once.
     */
    public static SmtpClient create(ClientSettings settings, Executor blocking) {
        return new SmtpClient(new Engine(settings, blocking));
    }

    /**
     * Sends one message.
     *
     * @param commit asked once the message has been sent, just before the final dot that makes the server take it
     *     for good: {@code false} abandons the transfer (the connection is closed without the dot, so the server
     *     delivers nothing) and the delivery fails with {@code 451 4.3.0}. Runs on the blocking executor.
     */
    public CompletionStage<Delivery> send(Destination destination, Envelope envelope, MessageSource message, BooleanSupplier commit) {
        return engine.send(destination, envelope, message, commit);
    }

    /**
     * Connects to the destination, reads its greeting and says QUIT, within {@code timeout}: whether the server is
     * there and greets, for a health check. Nothing else is sent (no EHLO, STARTTLS or AUTH) and no pooled connection
     * is used. Completes with the greeting when it is positive ({@code 220}); otherwise fails with an
     * {@link java.io.IOException} whose message is the reply: the server's refusing greeting, or the client's own reply
     * as for {@link #send} ({@code 451 4.4.1} when no connection could be made, {@code 4.4.2} for no greeting in
     * time). Completes on an event loop thread.
     */
    public CompletionStage<Reply> greet(Destination destination, Duration timeout) {
        return engine.greet(destination, timeout);
    }

    /**
     * Closes idle connections with QUIT, fails messages still waiting for a connection, and stops the event loop
     * (messages being sent are cut off and fail with {@code 451}).
     */
    @Override
    public void close() {
        engine.close();
    }
}
