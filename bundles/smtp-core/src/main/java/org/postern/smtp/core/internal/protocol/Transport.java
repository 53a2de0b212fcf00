package org.postern.smtp.core.internal.protocol;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/** What the session needs from the connection, so the state machine does not depend on Netty. */
public interface Transport {
    void send(Reply reply);

    /**
     * True when the client has sent input the session has not yet taken: lines held back, or part of a line.
     * Read from any thread; current as of the last read from the connection.
     */
    boolean inputWaiting();

    /** Writes out the replies sent so far now, not at the end of the batch of lines being answered. */
    void flush();

    /**
     * The client's next line, for a plugin that reads it itself: a line already held back, or the next one read
     * while the session is busy. Completes on the connection's thread; exceptionally when the connection closes
     * first, or another line is already awaited.
     */
    CompletableFuture<SmtpLine> nextLine();

    /** Closes the connection once every reply sent so far is flushed. */
    void close();

    /** The connection's own thread; session state is only touched there. */
    Executor executor();

    /** The session finished a command and can take the next line. */
    void ready();

    /** True when STARTTLS can be offered: a certificate is configured and the connection is not yet encrypted. */
    boolean tlsAvailable();

    /**
     * Sends {@code ready} in the clear, then switches the connection to TLS. Whatever the client sent after the
     * STARTTLS command in the clear is discarded (RFC 3207 5, command injection). Completes on the connection's
     * thread with a description of the protocol and cipher once the handshake succeeded, exceptionally if it
     * failed.
     */
    CompletableFuture<String> startTls(Reply ready);
}
