/**
 * Postern's asynchronous SMTP and LMTP client: {@link org.postern.smtp.client.SmtpClient} hands one message to a
 * {@link org.postern.smtp.client.Destination} over a pooled Netty connection and answers a
 * {@link org.postern.smtp.client.Delivery} with the result for the message and for each recipient. Nothing in it
 * blocks a caller's thread or a Netty event loop: the message is read on an executor the caller supplies.
 */
@Export
@Version("1.1.0")
package org.postern.smtp.client;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
