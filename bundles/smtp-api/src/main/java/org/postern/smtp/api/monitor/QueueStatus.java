package org.postern.smtp.api.monitor;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A mail queue a plugin keeps (queue/spool), registered as a service by that plugin so that metrics can show its
 * depth. Read from monitoring threads at any time: an implementation answers at once, from what it already knows.
 */
@ConsumerType
public interface QueueStatus {
    /** The queue's name, the plugin's: {@code queue/spool}. */
    String queue();

    /** Messages in the queue now, waiting for an attempt or being delivered. */
    int messages();
}
