package org.postern.smtp.client.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.postern.smtp.client.ClientSettings;
import org.postern.smtp.client.Destination;

/**
 * The connections to one destination: at most {@code maxConnections} open (or being opened) at a time. A
 * connection that carried a message is reset with RSET and kept for the next one, at most {@code idleTime}; a send
 * that finds every connection busy waits for one, at most {@code connectTimeout}. A connection the server closes
 * while idle is forgotten at once.
 */
final class Pool {
    private final Destination destination;
    private final Connector connector;
    private final ClientSettings settings;
    private final ArrayDeque<Connection> idle = new ArrayDeque<>();
    private final Map<Connection, ScheduledFuture<?>> idleTimers = new HashMap<>();
    private final ArrayDeque<CompletableFuture<Connection>> waiting = new ArrayDeque<>();
    /** Connections open or being opened. */
    private int open;
    private boolean closed;

    Pool(Destination destination, Connector connector, ClientSettings settings) {
        this.destination = destination;
        this.connector = connector;
        this.settings = settings;
    }

    /** A connection ready for MAIL: an idle one (most recently used first), a new one, or the next one released. */
    CompletableFuture<Connection> acquire() {
        synchronized (this) {
            if (closed) {
                return CompletableFuture.failedFuture(new Connection.Closed("the client is closed"));
            }
            Connection connection;
            while ((connection = idle.pollLast()) != null) {
                idleTimers.remove(connection).cancel(false);
                if (connection.isOpen() && connection.reusable) {
                    connection.reused = true;
                    return CompletableFuture.completedFuture(connection);
                }
            }
            if (open >= settings.maxConnections()) {
                CompletableFuture<Connection> wait = new CompletableFuture<>();
                waiting.add(wait);
                wait.orTimeout(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS).whenComplete((given, error) -> {
                    if (error != null) {
                        synchronized (this) {
                            waiting.remove(wait);
                        }
                    }
                });
                return wait.exceptionallyCompose(error -> CompletableFuture.failedFuture(Failures.unwrap(error) instanceof TimeoutException
                        ? new TimeoutException("no free connection among " + settings.maxConnections() + " within "
                                + settings.connectTimeout().toSeconds() + " s")
                        : error));
            }
            open++;
        }
        return connect();
    }

    /**
     * Takes a connection back after a message: RSET, then to the next waiting send or to the idle ones. A server
     * that offers PIPELINING gets the next message's commands right behind the RSET, so the connection is offered
     * at once; if the RSET fails, the connection closes and that message is tried on a new one.
     */
    void release(Connection connection) {
        if (!connection.reusable || !connection.isOpen()) {
            connection.quit(settings.commandTimeout());
            return;
        }
        boolean pipelining = connection.extensions.has("PIPELINING");
        connection.command("RSET", settings.commandTimeout()).whenComplete((reply, error) -> {
            if (error != null || !reply.isPositive()) {
                connection.abort(new Connection.Closed("RSET failed: " + (error != null ? error : reply)));
            } else if (!pipelining) {
                offer(connection);
            }
        });
        if (pipelining) {
            offer(connection);
        }
    }

    /** Quits the idle connections and fails the waiting sends; connections in use are quit when released. */
    void close() {
        List<Connection> quitting;
        List<CompletableFuture<Connection>> failing;
        synchronized (this) {
            closed = true;
            quitting = new ArrayList<>(idle);
            idle.clear();
            idleTimers.values().forEach(timer -> timer.cancel(false));
            idleTimers.clear();
            failing = new ArrayList<>(waiting);
            waiting.clear();
        }
        quitting.forEach(connection -> connection.quit(settings.commandTimeout()));
        failing.forEach(wait -> wait.completeExceptionally(new Connection.Closed("the client is closed")));
    }

    private CompletableFuture<Connection> connect() {
        return connector.open(destination).whenComplete((connection, error) -> {
            if (error != null) {
                synchronized (this) {
                    open--;
                }
            } else {
                connection.channel.closeFuture().addListener(closed -> forget(connection));
            }
        });
    }

    private void offer(Connection connection) {
        while (true) {
            CompletableFuture<Connection> next;
            synchronized (this) {
                next = closed ? null : waiting.poll();
                if (next == null && !closed && !settings.idleTime().isZero()) {
                    idle.add(connection);
                    idleTimers.put(connection, connection.channel.eventLoop().schedule(() -> expire(connection),
                            settings.idleTime().toMillis(), TimeUnit.MILLISECONDS));
                    return;
                }
            }
            if (next == null) {
                connection.quit(settings.commandTimeout());
                return;
            }
            connection.reused = true;
            if (next.complete(connection)) {
                return;
            }
        }
    }

    private void expire(Connection connection) {
        synchronized (this) {
            if (!idle.remove(connection)) {
                return;
            }
            idleTimers.remove(connection);
        }
        connection.quit(settings.commandTimeout());
    }

    /** A connection closed: its place is free, for a waiting send if there is one. */
    private void forget(Connection connection) {
        CompletableFuture<Connection> next;
        synchronized (this) {
            open--;
            if (idle.remove(connection)) {
                idleTimers.remove(connection).cancel(false);
            }
            next = closed || open >= settings.maxConnections() ? null : waiting.poll();
            if (next == null) {
                return;
            }
            open++;
        }
        connect().whenComplete((fresh, error) -> {
            if (error != null) {
                next.completeExceptionally(error);
            } else if (!next.complete(fresh)) {
                offer(fresh);
            }
        });
    }
}
