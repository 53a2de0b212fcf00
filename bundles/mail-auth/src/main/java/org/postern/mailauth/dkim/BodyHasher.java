package org.postern.mailauth.dkim;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The body hash of RFC 6376 3.7, computed as the body streams by in chunks: canonicalizes what it is given (3.4.3
 * simple, 3.4.4 relaxed) and hashes at most {@code limit} octets of the result (the {@code l=} tag). Empty lines are
 * held back until a line with content follows, so those at the end of the body are dropped without buffering it.
 * The body is read with CRLF line endings, as the server spools it; a CR or LF on its own is content.
 */
public final class BodyHasher {
    private static final byte CR = '\r';
    private static final byte LF = '\n';
    private static final byte[] CRLF = {CR, LF};
    private static final byte SPACE = ' ';

    private final Canonicalization canonicalization;
    private final MessageDigest digest;
    private final long limit;
    private final byte[] out = new byte[8192];
    private int outLength;
    private long canonicalLength;
    private long heldLineBreaks;
    private boolean heldWhiteSpace;
    private boolean heldCr;
    private boolean anyContent;

    /**
     * @param digestName the JDK's name of the hash, e.g. {@code SHA-256}
     * @param limit how many canonical octets to hash, or a negative number for all of them
     */
    public BodyHasher(Canonicalization canonicalization, String digestName, long limit) {
        this.canonicalization = canonicalization;
        this.limit = limit;
        try {
            this.digest = MessageDigest.getInstance(digestName);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalArgumentException("no such digest in this JDK: " + digestName, e);
        }
    }

    public void update(byte[] chunk, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            byte octet = chunk[i];
            if (heldCr) {
                heldCr = false;
                if (octet == LF) {
                    endOfLine();
                    continue;
                }
                content(CR);
            }
            if (octet == CR) {
                heldCr = true;
            } else if (canonicalization == Canonicalization.RELAXED && (octet == ' ' || octet == '\t')) {
                heldWhiteSpace = true;
            } else {
                content(octet);
            }
        }
    }

    private void endOfLine() {
        // relaxed: white space at the end of a line goes
        heldWhiteSpace = false;
        heldLineBreaks++;
    }

    private void content(byte octet) {
        for (; heldLineBreaks > 0; heldLineBreaks--) {
            emit(CRLF);
        }
        if (heldWhiteSpace) {
            heldWhiteSpace = false;
            emit(SPACE);
        }
        emit(octet);
        anyContent = true;
    }

    private void emit(byte[] octets) {
        for (byte octet : octets) {
            emit(octet);
        }
    }

    private void emit(byte octet) {
        canonicalLength++;
        if (limit >= 0 && canonicalLength > limit) {
            return;
        }
        out[outLength++] = octet;
        if (outLength == out.length) {
            digest.update(out, 0, outLength);
            outLength = 0;
        }
    }

    /**
     * Ends the body: a last line with content gets its CRLF; an empty body is one CRLF when simple and nothing when
     * relaxed (RFC 6376 3.4.3, and erratum 3475 for relaxed). Returns the hash; call once.
     */
    public byte[] digest() {
        if (heldCr) {
            heldCr = false;
            content(CR);
        }
        if (anyContent || canonicalization == Canonicalization.SIMPLE) {
            emit(CRLF);
        }
        digest.update(out, 0, outLength);
        outLength = 0;
        return digest.digest();
    }

    /** The length of the whole canonical body, known after {@link #digest()}; a signature's {@code l=} may not exceed it. */
    public long canonicalLength() {
        return canonicalLength;
    }
}
