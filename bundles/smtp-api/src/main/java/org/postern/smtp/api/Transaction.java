package org.postern.smtp.api;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
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
    /**
     * A short id unique within this server run, for log lines: the session's id and the transaction's number in
     * the session ({@code <session id>.1}); the number moves on when a transaction that had a sender ends (RSET,
     * a new HELO/EHLO, the end of DATA), so the commands before a MAIL share the id of the transaction it begins.
     *
     * @since 1.3
     */
    String id();

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

    /**
     * Replaces the envelope sender (qpsmtpd's {@code $transaction->sender($address)}), for example to rewrite
     * it; only while a transaction is open.
     *
     * @since 1.1
     */
    void changeSender(Address sender);

    /**
     * Replaces the recipients (qpsmtpd's {@code $transaction->recipients(@list)}), for example to expand an
     * alias or drop one; the message is queued for these.
     *
     * @since 1.1
     */
    void changeRecipients(List<Recipient> recipients);

    /**
     * The file holding the body (qpsmtpd's {@code body_filename}), written to disk first if it was still in
     * memory, for scanners that take a file name. Read it, do not change it: use {@link #replaceBody}.
     *
     * @since 1.1
     */
    Path bodyFile() throws IOException;

    /**
     * A new empty file in the spool folder (qpsmtpd's {@code temp_file}), for a plugin's scratch work (a
     * scanner's report, a rewritten body before {@link #replaceBody}); deleted with the transaction, and swept
     * at the next start if the server stopped first.
     *
     * @throws IOException when the file cannot be created, or the transaction has ended
     * @since 1.2
     */
    Path tempFile() throws IOException;

    /**
     * Replaces the body with this content (CRLF line endings, no dot-stuffing), for content filters that
     * rewrite the message; the header is edited through {@link #header()}. {@link #size()} stays the size
     * as received.
     *
     * @since 1.1
     */
    void replaceBody(InputStream content) throws IOException;

    /** Notes cleared with the transaction (on RSET, HELO/EHLO and after DATA). */
    Notes notes();
}
