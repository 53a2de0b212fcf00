/**
 * ARC (RFC 8617) on the DKIM engine: the chain of ARC sets read and checked from a message's header, its
 * verification (the newest ARC-Message-Signature like a DKIM signature, the body streamed once; every ARC-Seal over
 * the sets below it; keys through an asynchronous TXT lookup), and sealing a message with the next set.
 */
@Export
@Version("1.0.0")
package org.postern.mailauth.arc;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
