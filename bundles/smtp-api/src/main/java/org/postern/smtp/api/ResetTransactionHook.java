package org.postern.smtp.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Hook {@code reset_transaction}: a transaction ends (new MAIL, RSET, HELO/EHLO, after DATA). Results are ignored. */
@ConsumerType
@FunctionalInterface
public interface ResetTransactionHook {
    HookResult onResetTransaction(HookContext ctx);
}
