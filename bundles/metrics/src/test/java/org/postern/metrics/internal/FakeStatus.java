package org.postern.metrics.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.postern.smtp.api.monitor.ServerStatus;

/** A server status that says what the test sets. */
final class FakeStatus implements ServerStatus {
    volatile Map<String, Integer> sessions = Map.of("idle", 0, "plugins", 0, "data", 0, "auth", 0, "closing", 0);
    volatile long threadsHeld;
    private final Path spool;

    FakeStatus(Path spool) {
        this.spool = spool;
    }

    @Override
    public List<Listener> listeners() {
        return List.of();
    }

    @Override
    public Map<String, Integer> sessionsByState() {
        return sessions;
    }

    @Override
    public Path spoolFolder() {
        return spool;
    }

    @Override
    public long hookThreadsHeld() {
        return threadsHeld;
    }
}
