package org.postern.smtp.itests;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One session of client lines sent to a server, its replies as reference ITs compare them with qpsmtpd's: without
 * the enhanced status codes Postern adds, and with HELO and EHLO replies cut after "Hi" (the rest names the client
 * and the extensions, which differ by design). The last entry is "closed" once the server closed the connection,
 * "open" if it had not after the last line.
 */
final class ClientScript {
    private ClientScript() {
    }

    static List<String> replies(ServerProcess server, List<String> lines) throws IOException {
        List<String> replies = new ArrayList<>();
        try (SmtpClient client = new SmtpClient(server.port)) {
            client.reply();
            for (String line : lines) {
                String reply;
                try {
                    reply = client.command(line);
                } catch (IOException closed) {
                    reply = null;
                }
                if (reply == null) {
                    replies.add("closed");
                    return replies;
                }
                replies.add(comparable(reply));
            }
            replies.add(client.closedByServerWithin(5000) ? "closed" : "open");
        }
        return replies;
    }

    /**
     * The reply to the end of DATA for a message (header and body, CRLF line ends, without the final dot) sent as
     * HELO client.example, MAIL FROM:&lt;a@example.org&gt; and RCPT TO:&lt;b@localhost&gt;.
     */
    static String replyToMessage(int port, String message) throws IOException {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            client.command("HELO client.example");
            client.command("MAIL FROM:<a@example.org>");
            client.command("RCPT TO:<b@localhost>");
            client.command("DATA");
            client.send(message + ".\r\n");
            return client.reply();
        }
    }

    /** A reply without Postern's enhanced status codes, and a HELO/EHLO reply cut after "Hi". */
    static String comparable(String reply) {
        return reply.replaceAll("(?m)^(\\d{3}[ -])\\d\\.\\d{1,3}\\.\\d{1,3} ", "$1")
                .replaceFirst("(?s)^(250[ -]\\S+ Hi) .*", "$1");
    }
}
