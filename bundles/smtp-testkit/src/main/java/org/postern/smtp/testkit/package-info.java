/**
 * A small kit for unit tests of plugins: fake sessions, transactions and hook contexts with config items
 * from a map and captured log lines. Not for production use.
 */
@Export
@Version("1.4.0")
package org.postern.smtp.testkit;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
