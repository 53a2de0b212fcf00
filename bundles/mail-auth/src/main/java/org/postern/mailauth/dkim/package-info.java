/**
 * A DKIM engine (RFC 6376) on the JDK's own {@code java.security}: tag lists, simple and relaxed canonicalization
 * (the body streamed once, in chunks), {@code rsa-sha256} and {@code ed25519-sha256} (RFC 8463) signing and
 * verifying, key records, and a verifier whose key lookups are asynchronous. Built so that ARC (RFC 8617) reuses it:
 * the signature field's name is a parameter wherever the header hash is computed.
 */
@Export
@Version("1.1.0")
package org.postern.mailauth.dkim;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
