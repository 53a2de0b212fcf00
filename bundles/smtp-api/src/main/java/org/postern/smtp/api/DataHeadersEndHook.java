package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code data_headers_end}: the header has arrived, the body has not. DENY_DISCONNECT 554 + close, DENYSOFT_DISCONNECT 421 + close; anything else continues. */
@ConsumerType
@FunctionalInterface
public interface DataHeadersEndHook {
    HookResult onDataHeadersEnd(HookContext ctx);
}
