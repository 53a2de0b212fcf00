/**
 * Postern's hook API: one interface per qpsmtpd hook, the immutable {@link org.postern.smtp.api.HookResult},
 * and the session, transaction and address types that hooks see.
 */
@Export
@Version("1.5.0")
package org.postern.smtp.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
