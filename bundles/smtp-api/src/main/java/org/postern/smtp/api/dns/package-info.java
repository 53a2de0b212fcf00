/**
 * DNS lookups for the core and plugins: one {@link org.postern.smtp.api.dns.Resolver} service, asynchronous,
 * with timeouts and a TTL cache, configured once for the whole server.
 */
@Export
@Version("1.0.0")
package org.postern.smtp.api.dns;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
