package org.postern.smtp.core.internal.protocol;

/**
 * One line from the client, without its terminator.
 *
 * @param bytes the line's octets
 * @param crlf true when it ended in CRLF; false for a bare LF
 * @param bareCr true when a CR not followed by LF occurs inside it
 * @param tooLong true when the line exceeded the frame limit and its content was dropped
 */
public record SmtpLine(byte[] bytes, boolean crlf, boolean bareCr, boolean tooLong) {
    public static SmtpLine of(String text) {
        return new SmtpLine(text.getBytes(java.nio.charset.StandardCharsets.UTF_8), true, false, false);
    }

    /** A line as the framer split it off, with its bare CRs noted. */
    public static SmtpLine framed(byte[] bytes, boolean crlf) {
        return new SmtpLine(bytes, crlf, contains(bytes, (byte) '\r'), false);
    }

    public boolean contains(byte octet) {
        return contains(bytes, octet);
    }

    private static boolean contains(byte[] bytes, byte octet) {
        for (byte b : bytes) {
            if (b == octet) {
                return true;
            }
        }
        return false;
    }

    public boolean isDot() {
        return bytes.length == 1 && bytes[0] == '.';
    }
}
