package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code data_post_headers}: after the final dot, for plugins that edit the header. DENY 552, DENYSOFT 452, *_DISCONNECT the same then close. */
@ConsumerType
@FunctionalInterface
public interface DataPostHeadersHook {
    HookResult onDataPostHeaders(HookContext ctx);
}
