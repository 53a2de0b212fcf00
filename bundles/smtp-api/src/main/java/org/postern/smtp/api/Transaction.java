package org.postern.smtp.api;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One mail transaction: from MAIL to the end of DATA, or until RSET or a new HELO/EHLO clears it. Outside
 * a transaction this is an empty transaction with no sender.
 */
@ProviderType
public interface Transaction {
    /** The envelope sender, once MAIL was accepted. */
    Optional<Address> sender();

    /** The ESMTP parameters of the MAIL command (names in lower case). */
    Map<String, String> mailParameters();

    /** The recipients accepted so far, in order. */
    List<Recipient> recipients();

    /** The message header, once the client sent it (from {@code data_headers_end} on). */
    Optional<MessageHeader> header();

    /** The size of the message as received, in octets, after dot-unstuffing. */
    long size();

    /** The message body as received (after the header's blank line), CRLF line endings. */
    InputStream body() throws IOException;

    /** The whole message as it will be queued: the current header, a blank line, then the body. */
    InputStream message() throws IOException;

    /** Notes cleared with the transaction (on RSET, HELO/EHLO and after DATA). */
    Notes notes();
}
