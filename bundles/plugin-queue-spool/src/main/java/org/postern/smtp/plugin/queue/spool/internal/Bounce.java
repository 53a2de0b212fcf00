package org.postern.smtp.plugin.queue.spool.internal;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.RecipientState;

/**
 * A delivery status notification (RFC 3464) for the recipients of a message that failed: a {@code multipart/report;
 * report-type=delivery-status} with a text for people, a {@code message/delivery-status} with one block per
 * recipient ({@code Final-Recipient}, {@code Action: failed}, {@code Status}, {@code Remote-MTA},
 * {@code Diagnostic-Code: smtp; <reply>}), and the original message's header as {@code text/rfc822-headers}. It is
 * queued from the null sender to the original sender, so a bounce is never answered by another.
 */
final class Bounce {
    /** The most of the original header that goes into the report: a header larger than this is cut at a line. */
    static final int MOST_HEADER_OCTETS = 64 * 1024;
    private static final int MOST_REPLY_CHARACTERS = 900;
    private static final Pattern REPLY = Pattern.compile("([245])\\d\\d(?: ([245]\\.\\d{1,3}\\.\\d{1,3}))?.*");
    private static final DateTimeFormatter DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    private Bounce() {
    }

    /**
     * @param original the message that failed
     * @param failed its recipients that failed, each with its last reply
     * @param expired whether they failed because the message was queued for longer than {@code maxAge}
     * @param originalContent the original message, of which the header is read
     * @param reportingMta the name of this server ({@code me})
     */
    static void write(OutputStream out, QueuedMessage original, List<RecipientState> failed, boolean expired, Duration maxAge,
            InputStream originalContent, String reportingMta, Instant now) throws IOException {
        String boundary = original.id() + "/" + reportingMta;
        StringBuilder text = new StringBuilder();
        text.append("From: Mail Delivery System <MAILER-DAEMON@").append(reportingMta).append(">\r\n");
        text.append("To: <").append(original.sender()).append(">\r\n");
        text.append("Subject: Undelivered Mail Returned to Sender\r\n");
        text.append("Date: ").append(DATE.format(now)).append("\r\n");
        text.append("Message-ID: <").append(original.id()).append('.').append(now.toEpochMilli()).append("@").append(reportingMta).append(">\r\n");
        text.append("Auto-Submitted: auto-replied\r\n");
        text.append("MIME-Version: 1.0\r\n");
        text.append("Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"").append(boundary).append("\"\r\n");
        text.append("\r\nThis is a MIME-encapsulated message.\r\n\r\n");

        text.append("--").append(boundary).append("\r\n");
        text.append("Content-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n");
        text.append("This is the mail system at host ").append(reportingMta).append(".\r\n\r\n");
        text.append("Your message could not be delivered to one or more recipients")
                .append(expired ? " within " + maxAge.toDays() + " days" : "").append(".\r\n");
        text.append("It is attached below (its header only).\r\n\r\n");
        for (RecipientState recipient : failed) {
            text.append("<").append(recipient.address()).append(">: ")
                    .append(recipient.lastReply().isEmpty() ? "no delivery attempt succeeded in time" : limited(recipient.lastReply())).append("\r\n");
        }
        text.append("\r\n");

        text.append("--").append(boundary).append("\r\n");
        text.append("Content-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n");
        text.append("Reporting-MTA: dns; ").append(reportingMta).append("\r\n");
        text.append("X-Postern-Queue-ID: ").append(original.id()).append("\r\n");
        text.append("Arrival-Date: ").append(DATE.format(original.arrival())).append("\r\n");
        for (RecipientState recipient : failed) {
            text.append("\r\nFinal-Recipient: rfc822; ").append(recipient.address()).append("\r\n");
            text.append("Action: failed\r\n");
            text.append("Status: ").append(status(recipient.lastReply(), expired)).append("\r\n");
            if (!recipient.remoteMta().isEmpty()) {
                text.append("Remote-MTA: ").append(recipient.remoteMta()).append("\r\n");
            }
            if (!recipient.lastReply().isEmpty()) {
                text.append("Diagnostic-Code: smtp; ").append(limited(recipient.lastReply())).append("\r\n");
            }
        }
        text.append("\r\n");

        text.append("--").append(boundary).append("\r\n");
        text.append("Content-Description: Undelivered Message Headers\r\nContent-Type: text/rfc822-headers\r\n\r\n");
        out.write(ascii(text.toString()));
        out.write(header(originalContent));
        out.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * The RFC 3463 status of a reply: its enhanced status code, else its class with {@code .0.0}; for a message that
     * expired without a reply, {@code 4.4.7} (delivery time expired).
     */
    static String status(String reply, boolean expired) {
        Matcher matcher = REPLY.matcher(reply);
        if (!matcher.matches()) {
            return expired ? "4.4.7" : "5.0.0";
        }
        return matcher.group(2) != null ? matcher.group(2) : matcher.group(1) + ".0.0";
    }

    /** The header of a message, up to its blank line, at most {@link #MOST_HEADER_OCTETS}, cut after a whole line. */
    static byte[] header(InputStream message) throws IOException {
        InputStream in = new BufferedInputStream(message);
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            line.write(b);
            if (b == '\n') {
                String ended = line.toString(StandardCharsets.ISO_8859_1);
                if (ended.equals("\r\n") || ended.equals("\n") || header.size() + line.size() > MOST_HEADER_OCTETS) {
                    break;
                }
                line.writeTo(header);
                line.reset();
            }
        }
        if (b < 0 && line.size() > 0 && header.size() + line.size() <= MOST_HEADER_OCTETS) {
            // a message that is all header, its last line without a line end
            line.writeTo(header);
            header.write(new byte[] {'\r', '\n'});
        }
        return header.toByteArray();
    }

    /** A reply kept well under the 998 octets a line may have (RFC 5322 2.1.1); a multiline reply is one line here. */
    private static String limited(String reply) {
        return reply.length() <= MOST_REPLY_CHARACTERS ? reply : reply.substring(0, MOST_REPLY_CHARACTERS) + "...";
    }

    /** Server replies and addresses are ASCII by the protocol; anything else becomes '?' in a us-ascii part. */
    private static byte[] ascii(String text) {
        return text.replaceAll("[^\\x00-\\x7F]", "?").getBytes(StandardCharsets.US_ASCII);
    }
}
