package org.postern.health.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.postern.smtp.api.monitor.ServerStatus;

/** A running server as the core describes it, with the listeners and spool folder a test gives. */
record FakeServerStatus(List<Listener> listeners, Path spoolFolder) implements ServerStatus {
    @Override
    public Map<String, Integer> sessionsByState() {
        return Map.of("idle", 0, "plugins", 0, "data", 0, "auth", 0, "closing", 0);
    }

    @Override
    public long hookThreadsHeld() {
        return 0;
    }
}
