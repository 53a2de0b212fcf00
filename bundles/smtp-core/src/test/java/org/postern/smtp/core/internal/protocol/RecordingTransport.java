package org.postern.smtp.core.internal.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/** A transport on the calling thread that records the replies a session sends; no TLS. */
public final class RecordingTransport implements Transport {
    private final List<String> replies = new ArrayList<>();
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
    public void close() {
        closed = true;
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
