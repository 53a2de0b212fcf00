package org.postern.smtp.client;

import java.io.IOException;
import java.io.InputStream;
import org.osgi.annotation.versioning.ConsumerType;

/** The message to send: read on the client's blocking executor, in chunks, never held whole in memory. */
@ConsumerType
public interface MessageSource {
    /**
     * The message from its first octet: header, blank line, body, as it is to be delivered and not dot-stuffed.
     * Lines should end in CRLF; a bare CR or LF is sent as CRLF, so that no server can read a different end of
     * the message into it. May be called more than once (the client reads it twice when it must find out whether
     * it holds 8-bit octets).
     */
    InputStream open() throws IOException;

    /** Its size in octets, declared with SIZE and checked against the server's limit. */
    long size();

    /** Opens a message's content; may be called more than once. */
    @FunctionalInterface
    interface Opener {
        InputStream open() throws IOException;
    }

    /** A message of {@code size} octets that {@code opener} opens. */
    static MessageSource of(long size, Opener opener) {
        return new MessageSource() {
            @Override
            public InputStream open() throws IOException {
                return opener.open();
            }

            @Override
            public long size() {
                return size;
            }
        };
    }
}
