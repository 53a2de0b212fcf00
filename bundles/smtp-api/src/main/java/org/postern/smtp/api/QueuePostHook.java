package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code queue_post}: after the queue reply; anything but OK/DECLINED is logged. */
@ConsumerType
@FunctionalInterface
public interface QueuePostHook {
    HookResult onQueuePost(HookContext ctx);
}
