package org.postern.smtp.client;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The envelope of one message: sender, recipients and how to send it.
 *
 * @param sender the reverse path without angle brackets; empty for the null sender of a bounce
 * @param recipients the forward paths without angle brackets, at least one
 * @param body what the message holds: decides {@code BODY=8BITMIME} (RFC 6152); {@link Body#UNKNOWN} has the
 *     client read it once to find out
 * @param allRecipients whether the message may go only to all recipients or to none: the client then sends DATA
 *     only once every RCPT was accepted (one round trip more than pipelining DATA with them), and otherwise ends
 *     the transaction with RSET
 * @param xclient Postfix XCLIENT attributes (NAME, ADDR, PORT, HELO, PROTO, LOGIN, …) to send before MAIL, those
 *     the server announces, values xtext-encoded by the client; empty for none. A connection that carried XCLIENT is not used again for another message
 */
public record Envelope(String sender, List<String> recipients, Body body, boolean allRecipients, Map<String, String> xclient) {
    /** The message's content as far as MIME transport goes. */
    public enum Body {
        /** Only octets below 128: sent without a BODY parameter. */
        SEVEN_BIT,
        /** 8-bit octets in it: {@code BODY=8BITMIME}; a server without 8BITMIME gets nothing ({@code 554 5.6.3}). */
        EIGHT_BIT_MIME,
        /** Not known: the client reads the message once before MAIL to decide between the two. */
        UNKNOWN
    }

    public Envelope {
        Objects.requireNonNull(body, "body");
        checkPath(sender);
        if (recipients.isEmpty()) {
            throw new IllegalArgumentException("a message needs at least one recipient");
        }
        recipients = List.copyOf(recipients);
        recipients.forEach(Envelope::checkPath);
        xclient = Map.copyOf(xclient);
        xclient.keySet().forEach(name -> {
            if (!name.matches("[A-Za-z]+")) {
                throw new IllegalArgumentException("not an XCLIENT attribute name: " + name);
            }
        });
    }

    /** A message from {@code sender} to {@code recipients}, its body to be looked at, sent to whichever recipients are accepted. */
    public static Envelope of(String sender, List<String> recipients) {
        return new Envelope(sender, recipients, Body.UNKNOWN, false, Map.of());
    }

    public Envelope withBody(Body newBody) {
        return new Envelope(sender, recipients, newBody, allRecipients, xclient);
    }

    /** The same, sent only if every recipient is accepted. */
    public Envelope toAllRecipientsOrNone() {
        return new Envelope(sender, recipients, body, true, xclient);
    }

    public Envelope withXclient(Map<String, String> attributes) {
        return new Envelope(sender, recipients, body, allRecipients, attributes);
    }

    /** A path must not break the command line it is sent in. */
    private static void checkPath(String path) {
        Objects.requireNonNull(path, "path");
        if (path.chars().anyMatch(c -> c < 0x20 || c == 0x7f || c == '<' || c == '>')) {
            throw new IllegalArgumentException("not a mail path: " + path);
        }
    }
}
