package org.postern.smtp.plugin.uribl.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.Predicate;
import org.apache.james.mime4j.MimeException;
import org.apache.james.mime4j.codec.DecodeMonitor;
import org.apache.james.mime4j.stream.EntityState;
import org.apache.james.mime4j.stream.Field;
import org.apache.james.mime4j.stream.MimeConfig;
import org.apache.james.mime4j.stream.MimeTokenStream;
import org.apache.james.mime4j.stream.RecursionMode;

/**
 * The text of a message as a reader sees it, line by line, streamed with mime4j: every {@code text/*} part
 * (the body of a message without MIME is one), in multiparts and attached messages too, decoded from
 * quoted-printable or base64; with {@code headers}, also every header field, unfolded. Other parts (images,
 * attachments) and the preamble and epilogue of multiparts are skipped unread.
 */
final class MessageText {
    /** Bounds on what mime4j holds at once; a message beyond them is scanned up to where it went wrong. */
    private static final MimeConfig LIMITS = MimeConfig.custom()
            .setMaxLineLen(64 * 1024)
            .setMaxHeaderLen(64 * 1024)
            .setMaxHeaderCount(1000)
            .setMaxNestingDepth(20)
            .setMaxPartCount(1000)
            .setMaxContentLen(-1)
            .build();

    private MessageText() {
    }

    /**
     * Hands each line to {@code line} until it answers false or the message ends.
     *
     * @throws MimeException when the message breaks one of the {@link #LIMITS}
     */
    static void forEachLine(InputStream message, boolean headers, Predicate<String> line) throws IOException, MimeException {
        MimeTokenStream stream = new MimeTokenStream(LIMITS, DecodeMonitor.SILENT, null);
        stream.setRecursionMode(RecursionMode.M_RECURSE);
        stream.parse(message);
        for (EntityState state = stream.getState(); state != EntityState.T_END_OF_STREAM; state = stream.next()) {
            boolean more = true;
            if (state == EntityState.T_FIELD && headers) {
                Field field = stream.getField();
                more = line.test(field.getName() + ": " + field.getBody().replaceAll("\r?\n", ""));
            } else if (state == EntityState.T_BODY && stream.getBodyDescriptor().getMimeType().startsWith("text/")) {
                more = TextLines.forEach(stream.getDecodedInputStream(), line);
            }
            if (!more) {
                return;
            }
        }
    }
}
