package org.postern.smtp.itests;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** One message sent as a client would, to several recipients, for the queue plugins' ITs. */
final class MessageSession {
    private MessageSession() {
    }

    /**
     * The replies to MAIL FROM:&lt;a@example.org&gt;, each RCPT, DATA and, when DATA was accepted, the final dot of
     * one message (header and body, CRLF line ends, dot-stuffed, without the final dot) after EHLO client.example.
     */
    static List<String> send(int port, List<String> recipients, String message) throws IOException {
        List<String> replies = new ArrayList<>();
        try (SmtpClient client = new SmtpClient(port)) {
            client.setTimeoutMillis(60_000);
            client.reply();
            client.command("EHLO client.example");
            replies.add(client.command("MAIL FROM:<a@example.org>"));
            for (String recipient : recipients) {
                replies.add(client.command("RCPT TO:<" + recipient + ">"));
            }
            replies.add(client.command("DATA"));
            if (replies.get(replies.size() - 1).startsWith("354")) {
                client.send(message + ".\r\n");
                replies.add(client.reply());
            }
            client.command("QUIT");
        }
        return replies;
    }

    /** The last of {@link #send}'s replies: the reply to the final dot, or to what came before it failed. */
    static String finalReply(int port, List<String> recipients, String message) throws IOException {
        List<String> replies = send(port, recipients, message);
        return replies.get(replies.size() - 1);
    }

    /** A message with this subject (to find it in a mailbox) and body. */
    static String message(String subject, String body) {
        return "Subject: " + subject + "\r\nFrom: a@example.org\r\n\r\n" + body;
    }
}
