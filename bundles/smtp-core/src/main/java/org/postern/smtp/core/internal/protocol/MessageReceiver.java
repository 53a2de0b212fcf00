package org.postern.smtp.core.internal.protocol;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Receives the lines of one message between 354 and the final dot (already dot-unstuffed): collects the
 * header, streams the body into the spool, and counts the size against the limits.
 */
final class MessageReceiver {
    private static final byte[] CRLF = {'\r', '\n'};
    /**
     * Octets each header line counts beyond its own toward the header limit, for the memory a kept line takes
     * (object headers, list slot): a header of many tiny lines cannot take many times the limit in memory.
     */
    static final int HEADER_LINE_OVERHEAD = 64;

    private final Spool body;
    private final long maxSize;
    private final int maxHeaderSize;
    private List<String> headerLines = new ArrayList<>();
    private boolean inHeader = true;
    private long size;
    private int headerSize;
    private boolean tooBig;
    private boolean headerTooBig;
    private boolean lineTooLong;
    private Reply refusal;
    private IOException spoolFailure;
    /** The previous line ended in CRLF (or was the DATA command), so a dot line here may end the message. */
    private boolean atLineStart = true;

    MessageReceiver(Spool body, long maxSize, int maxHeaderSize) {
        this.body = body;
        this.maxSize = maxSize;
        this.maxHeaderSize = maxHeaderSize;
    }

    /**
     * True when this line is the end of data: a lone dot after CRLF and before CRLF. The CRLF before the dot
     * counts as much as the one after it, so {@code <LF>.<CRLF>} is content, not an end (SMTP smuggling).
     */
    boolean endsData(SmtpLine line) {
        boolean lineStart = atLineStart;
        atLineStart = line.crlf();
        return line.isDot() && line.crlf() && lineStart;
    }

    /**
     * Takes one line; returns true when this line completed the header. A spool write that fails refuses
     * the message (452 4.3.1 at the final dot) instead of failing the session.
     */
    boolean line(byte[] bytes, int offset, int length) {
        if (refusal != null) {
            return false;
        }
        try {
            return store(bytes, offset, length);
        } catch (IOException e) {
            spoolFailure = e;
            refusal = Reply.of(452, "4.3.1", "Insufficient system storage, try again later");
            return false;
        }
    }

    private boolean store(byte[] bytes, int offset, int length) throws IOException {
        size += length + 2;
        if (size > maxSize) {
            tooBig = true;
            return false;
        }
        if (!inHeader) {
            body.write(bytes, offset, length);
            body.write(CRLF, 0, 2);
            return false;
        }
        if (length == 0) {
            inHeader = false;
            return true;
        }
        String text = new String(bytes, offset, length, StandardCharsets.ISO_8859_1);
        boolean continuation = (text.charAt(0) == ' ' || text.charAt(0) == '\t') && !headerLines.isEmpty();
        if (!continuation && !ParsedHeader.isFieldStart(text)) {
            inHeader = false;
            body.write(bytes, offset, length);
            body.write(CRLF, 0, 2);
            return true;
        }
        headerSize += length + 2 + HEADER_LINE_OVERHEAD;
        if (headerSize > maxHeaderSize) {
            headerTooBig = true;
        } else {
            headerLines.add(text);
        }
        return false;
    }

    /** Refuses the message: the rest of it is read and dropped, and this reply answers the final dot. */
    void refuse(Reply reply) {
        refusal = reply;
    }

    Reply refusal() {
        return refusal;
    }

    /** Why the message could not be spooled, or null. */
    IOException spoolFailure() {
        return spoolFailure;
    }

    void lineTooLong() {
        lineTooLong = true;
    }

    /** Ends the header at the final dot when no blank line did; returns true if this call ended it. */
    boolean endHeaderAtEndOfData() {
        boolean wasInHeader = inHeader;
        inHeader = false;
        return wasInHeader;
    }

    /** Parses the header; called once, when it ends. The lines are let go, so they and the fields are not both kept. */
    ParsedHeader header() {
        ParsedHeader header = ParsedHeader.parse(headerLines);
        headerLines = List.of();
        return header;
    }

    long size() {
        return size;
    }

    boolean tooBig() {
        return tooBig;
    }

    boolean headerTooBig() {
        return headerTooBig;
    }

    boolean hadLineTooLong() {
        return lineTooLong;
    }

    /** Turns each CR that is not part of CRLF into CRLF (only reached in NORMALIZE mode). */
    static byte[] normalizeBareCr(byte[] bytes) {
        int bareCrs = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '\r' && (i + 1 == bytes.length || bytes[i + 1] != '\n')) {
                bareCrs++;
            }
        }
        if (bareCrs == 0) {
            return bytes;
        }
        byte[] normalized = new byte[bytes.length + bareCrs];
        int j = 0;
        for (int i = 0; i < bytes.length; i++) {
            normalized[j++] = bytes[i];
            if (bytes[i] == '\r' && (i + 1 == bytes.length || bytes[i + 1] != '\n')) {
                normalized[j++] = '\n';
            }
        }
        return normalized;
    }
}
