package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code data_post}: the whole message is there (content filters). DENY 552, DENYSOFT 452, *_DISCONNECT the same then close; DONE skips queueing. */
@ConsumerType
@FunctionalInterface
public interface DataPostHook {
    HookResult onDataPost(HookContext ctx);
}
