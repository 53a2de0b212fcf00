package org.postern.smtp.client;

import java.time.Duration;
import java.util.Objects;

/**
 * How long the client waits, and how many connections it keeps. Every wait has its bound, after which the message
 * gets a temporary failure ({@code 451 4.4.2}, or {@code 4.4.1} when no connection could be made).
 *
 * @param connectTimeout for a TCP connection, and for a free connection when each one the pool may open is busy
 * @param commandTimeout for the greeting and for each reply to a command: EHLO, STARTTLS (and its handshake),
 *     AUTH, MAIL, RCPT, DATA, RSET, QUIT (RFC 5321 4.5.3.2 suggests 5 minutes for MAIL and RCPT)
 * @param dataBlockTimeout for the server to take more of the message while it is sent (RFC 5321: 3 minutes)
 * @param dataEndTimeout for the reply to the final dot, per recipient in LMTP (RFC 5321: 10 minutes)
 * @param maxConnections the most connections open to one destination at a time; more messages wait for one
 * @param idleTime how long a connection is kept open between messages before it is closed with QUIT
 * @param ioThreads the client's Netty event loop threads
 */
public record ClientSettings(Duration connectTimeout, Duration commandTimeout, Duration dataBlockTimeout, Duration dataEndTimeout,
        int maxConnections, Duration idleTime, int ioThreads) {
    public ClientSettings {
        for (Duration duration : new Duration[] {connectTimeout, commandTimeout, dataBlockTimeout, dataEndTimeout}) {
            if (Objects.requireNonNull(duration, "timeout").isNegative() || duration.isZero()) {
                throw new IllegalArgumentException("a timeout must be positive: " + duration);
            }
        }
        Objects.requireNonNull(idleTime, "idleTime");
        if (maxConnections < 1 || ioThreads < 1 || idleTime.isNegative()) {
            throw new IllegalArgumentException("maxConnections and ioThreads must be at least 1, idleTime not negative");
        }
    }

    /**
     * RFC 5321's suggestions: 30 s to connect, 5 minutes per command, 3 per data block, 10 for the final dot; 4
     * connections per destination, kept 30 s when idle; one I/O thread.
     */
    public static ClientSettings defaults() {
        return new ClientSettings(Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofMinutes(3), Duration.ofMinutes(10), 4,
                Duration.ofSeconds(30), 1);
    }

    public ClientSettings withTimeouts(Duration connect, Duration command, Duration dataBlock, Duration dataEnd) {
        return new ClientSettings(connect, command, dataBlock, dataEnd, maxConnections, idleTime, ioThreads);
    }

    public ClientSettings withPool(int connections, Duration idle) {
        return new ClientSettings(connectTimeout, commandTimeout, dataBlockTimeout, dataEndTimeout, connections, idle, ioThreads);
    }
}
