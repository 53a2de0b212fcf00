package org.postern.smtp.core.internal.protocol;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/** A transport on the calling thread that records the replies a session sends; no TLS. */
public final class RecordingTransport implements Transport {
    private final List<String> replies = new ArrayList<>();
    private final ArrayDeque<CompletableFuture<SmtpLine>> linesWanted = new ArrayDeque<>();
    private boolean closed;

    /** The replies so far, in wire form without the final CRLF. */
    public List<String> replies() {
        return replies;
    }

    public boolean closed() {
        return closed;
    }

    @Override
    public void send(Reply reply) {
        replies.add(reply.toString());
    }

    @Override
    public void flush() {
    }

    private boolean inputWaiting;

    /** Makes the client one that has sent input the session has not taken yet. */
    public void inputWaiting(boolean waiting) {
        inputWaiting = waiting;
    }

    @Override
    public boolean inputWaiting() {
        return inputWaiting;
    }

    @Override
    public CompletableFuture<SmtpLine> nextLine() {
        CompletableFuture<SmtpLine> line = new CompletableFuture<>();
        linesWanted.add(line);
        return line;
    }

    /** Types a line for the plugin waiting for one; false when none waits. */
    public boolean typeForPlugin(String line) {
        CompletableFuture<SmtpLine> wanted = linesWanted.poll();
        return wanted != null && wanted.complete(SmtpLine.of(line));
    }

    @Override
    public void close() {
        closed = true;
        linesWanted.forEach(line -> line.completeExceptionally(new java.nio.channels.ClosedChannelException()));
    }

    @Override
    public Executor executor() {
        return Runnable::run;
    }

    @Override
    public void ready() {
    }

    @Override
    public boolean tlsAvailable() {
        return false;
    }

    @Override
    public CompletableFuture<String> startTls(Reply ready) {
        throw new UnsupportedOperationException("no TLS on a recording transport");
    }
}
