/**
 * State that plugins keep beyond one session (greylisting triplets, karma, rate counters): one
 * {@link org.postern.smtp.api.store.StateStore} service, asynchronous, with a time to live per key. The embedded
 * store keeps it on the server's disk; a networked one shares it between the nodes behind one MX.
 */
@Export
@Version("1.0.0")
package org.postern.smtp.api.store;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
