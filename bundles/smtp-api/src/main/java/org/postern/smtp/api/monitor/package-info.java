/**
 * What the server does, for monitoring: {@link org.postern.smtp.api.monitor.ServerMonitor} services hear
 * connections, plugin calls and ended transactions as they happen (metrics); the core's
 * {@link org.postern.smtp.api.monitor.ServerStatus} service answers what is true now (health checks); and a plugin
 * that depends on a daemon registers a {@link org.postern.smtp.api.monitor.PeerCheck} so that health checks can
 * tell whether that daemon answers; a plugin that keeps a mail queue registers a
 * {@link org.postern.smtp.api.monitor.QueueStatus} for its depth.
 */
@Export
@Version("1.0.0")
package org.postern.smtp.api.monitor;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
