package org.postern.smtp.client.internal;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.InputStream;

/**
 * Turns a message into DATA's wire form, chunk by chunk (RFC 5321 4.5.2): a dot that starts a line is doubled,
 * and every line ends in CRLF, a bare CR or LF included, so that what the server reads as the end of the message
 * is exactly where the client ends it (no SMTP smuggling through the client).
 */
final class DotStuffer {
    private boolean lineStart = true;
    private boolean pendingCr;

    /** The most octets {@link #stuff} writes for {@code length} octets in. */
    static int maxOutput(int length) {
        return 2 * length + 2;
    }

    void stuff(byte[] in, int length, ByteBuf out) {
        out.ensureWritable(maxOutput(length));
        for (int i = 0; i < length; i++) {
            byte b = in[i];
            if (pendingCr) {
                pendingCr = false;
                endLine(out);
                if (b == '\n') {
                    continue;
                }
            }
            if (b == '\r') {
                pendingCr = true;
            } else if (b == '\n') {
                endLine(out);
            } else {
                if (lineStart && b == '.') {
                    out.writeByte('.');
                }
                out.writeByte(b);
                lineStart = false;
            }
        }
    }

    /** Ends the last line if the message did not; the final dot is the caller's to send. */
    void finish(ByteBuf out) {
        if (pendingCr || !lineStart) {
            pendingCr = false;
            endLine(out);
        }
    }

    private void endLine(ByteBuf out) {
        out.writeByte('\r').writeByte('\n');
        lineStart = true;
    }

    /** Whether the stream holds an octet of 128 or more; reads it to the end (or to the first such octet). */
    static boolean hasEightBitOctets(InputStream in) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        int read;
        while ((read = in.read(buffer)) > 0) {
            for (int i = 0; i < read; i++) {
                if (buffer[i] < 0) {
                    return true;
                }
            }
        }
        return false;
    }
}
