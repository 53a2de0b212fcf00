package org.postern.smtp.core.internal.protocol;

import java.nio.file.Path;

/**
 * The limits and names a session works with; see the core's configuration for their meaning and defaults.
 *
 * @param me the server's host name, in replies and the Received header
 * @param greeting the text after 220, without the host name
 * @param maxErrors syntax and sequence errors (500-504, 555) a client may make before it is disconnected
 */
public record SessionSettings(
        String me,
        String greeting,
        long maxMessageSize,
        int maxRecipients,
        int maxCommandLineLength,
        int maxHeaderSize,
        int maxErrors,
        BareLineEndings bareLineEndings,
        Path spoolFolder,
        int spoolMemoryThreshold) {

    /** What to do with a bare LF or bare CR inside DATA. */
    public enum BareLineEndings {
        /** Reply 554 5.6.11 and close: the sender's framing cannot be trusted (SMTP smuggling). */
        REJECT,
        /** Store the line as if it ended in CRLF; only CRLF.CRLF still ends the message. */
        NORMALIZE
    }
}
