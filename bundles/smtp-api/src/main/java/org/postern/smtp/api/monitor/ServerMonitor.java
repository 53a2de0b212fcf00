package org.postern.smtp.api.monitor;

import java.time.Duration;
import org.osgi.annotation.versioning.ConsumerType;
import org.postern.smtp.api.HookType;

/**
 * Hears what the server does, as it does it: register one as a service (whiteboard) and the core calls it.
 *
 * <p>Calls come from the server's own threads, the connection threads among them, in the middle of answering a
 * client: an implementation returns at once, never blocks and never throws (a throw is logged and ignored).
 * Every method has an empty default, so a monitor implements only what it counts.
 */
@ConsumerType
public interface ServerMonitor {
    /** A client connected to the named listener and its session began. */
    default void connectionOpened(String listener) {
    }

    /** A client was turned away by a connection limit before its session began. */
    default void connectionRefused(String listener) {
    }

    /** A session ended, after {@code length}. */
    default void connectionClosed(String listener, Duration length) {
    }

    /**
     * A plugin answered at a hook: {@code outcome} is the name of its {@link org.postern.smtp.api.ReturnCode}, or
     * {@link #FAILED} when it threw or its answer failed, or {@link #TIMED_OUT}; {@code elapsed} runs from the
     * call to the answer (a {@code later()} answer included).
     */
    default void pluginAnswered(HookType hook, String plugin, String outcome, Duration elapsed) {
    }

    /** A mail transaction (one that got as far as an accepted MAIL) ended, queued or not. */
    default void transactionEnded(TransactionRecord transaction) {
    }

    /** {@link #pluginAnswered}'s outcome for a plugin that threw, or whose {@code later()} answer failed. */
    String FAILED = "FAILED";

    /** {@link #pluginAnswered}'s outcome for a plugin that did not answer within its timeout. */
    String TIMED_OUT = "TIMED_OUT";
}
