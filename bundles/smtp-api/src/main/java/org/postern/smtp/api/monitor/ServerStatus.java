package org.postern.smtp.api.monitor;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.osgi.annotation.versioning.ProviderType;

/** What is true of the running SMTP server now; the core registers one while the server runs. */
@ProviderType
public interface ServerStatus {
    /** A configured listener and the address it is bound to, or null when it is not listening. */
    record Listener(String name, String configured, InetSocketAddress bound) {
    }

    /** Every configured listener, bound or not. */
    List<Listener> listeners();

    /**
     * The open sessions by what they are doing: {@code idle} (waiting for a command), {@code plugins} (a command
     * waits for plugins), {@code data} (receiving a message), {@code auth} (in an AUTH exchange), {@code closing}.
     * Every state is present, with 0 when no session is in it.
     */
    Map<String, Integer> sessionsByState();

    /** Where message bodies spill to disk; a full or unwritable folder means messages are refused. */
    Path spoolFolder();

    /** Hook threads held now by plugin calls that ran past their timeout. */
    long hookThreadsHeld();
}
