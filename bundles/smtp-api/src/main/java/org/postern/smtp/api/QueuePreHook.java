package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code queue_pre}: just before queueing; DONE skips queueing, OK/DECLINED queue. */
@ConsumerType
@FunctionalInterface
public interface QueuePreHook {
    HookResult onQueuePre(HookContext ctx);
}
