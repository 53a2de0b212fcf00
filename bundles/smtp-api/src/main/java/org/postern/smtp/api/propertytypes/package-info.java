/** Component property types that set the service properties the core reads from a hook service. */
@Export
@Version("1.0.0")
package org.postern.smtp.api.propertytypes;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
