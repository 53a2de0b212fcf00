package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * rcpt_regexp side by side with qpsmtpd's plugin of the same name, both reading the same lines (qpsmtpd's
 * config/rcpt_regexp, Postern's config item rcpt_regexp): the same recipients get the same replies.
 */
public class RcptRegexpReferenceIT {
    private static final List<String> LINES = List.of(
            "me@myhost.org OK Accepting mail",
            "/^user\\d+\\@doma\\.in$/ OK Accepting mail",
            "Info@MyHost.com DENY User not found.",
            "/^unused\\@.*/ DENY",
            "/^later\\@/ DENYSOFT Mailbox moving; try tomorrow",
            "/^gone\\@/ DENY_DISCONNECT Gone for good",
            "/^(broken\\@/ DENY A broken pattern is skipped",
            "broken@myhost.org deny a lower-case code is no code",
            "/^.*\\@localhost$/ DECLINED Fall through to rcpt_ok");
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startBoth() throws Exception {
        qpsmtpd = ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of("rcpt_regexp", String.join("\n", LINES) + "\n"),
                "rcpt_regexp");
        // a .cfg value is read with backslash escapes, and the item's values are separated by commas
        String item = String.join(", ", LINES.stream().map(line -> line.replace("\\", "\\\\")).toList());
        postern = ServerProcess.posternWithPlugins("rcpt-regexp", Map.of("org.postern.smtp.config.cfg", "rcpt_regexp = " + item),
                List.of("plugin-rcpt-regexp")).awaitPlugin("rcpt_regexp");
    }

    @AfterClass
    public static void stopBoth() throws Exception {
        if (qpsmtpd != null) {
            qpsmtpd.close();
        }
        if (postern != null) {
            postern.close();
        }
    }

    @Test
    public void recipientsGetQpsmtpdsReply() throws Exception {
        for (String recipient : List.of("<me@myhost.org>", "<ME@MyHost.ORG>", "<user42@doma.in>", "<User7@DOMA.IN>",
                "<userx@doma.in>", "<info@myhost.com>", "<unused@anywhere.example>", "<later@example.org>", "<broken@myhost.org>",
                "<anyone@localhost>", "<postmaster>")) {
            assertEquals(recipient, rcptReply(qpsmtpd.port, recipient), rcptReply(postern.port, recipient));
        }
        assertEquals("250 <user42@doma.in>, recipient ok", rcptReply(postern.port, "<user42@doma.in>"));
        assertEquals("550 User not found.", rcptReply(postern.port, "<info@myhost.com>"));
    }

    @Test
    public void denyDisconnectClosesBothConnections() throws Exception {
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            try (SmtpClient client = transaction(server.port)) {
                assertEquals("550 Gone for good", withoutStatus(client.command("RCPT TO:<gone@example.org>")));
                assertTrue(client.closedByServerWithin(5000));
            }
        }
    }

    private static SmtpClient transaction(int port) throws Exception {
        SmtpClient client = new SmtpClient(port);
        client.reply();
        client.command("HELO client.example");
        client.command("MAIL FROM:<a@example.org>");
        return client;
    }

    private static String rcptReply(int port, String recipient) throws Exception {
        try (SmtpClient client = transaction(port)) {
            return withoutStatus(client.command("RCPT TO:" + recipient));
        }
    }

    /** The reply without its enhanced status code: Postern's after the reply code, qpsmtpd rcpt_ok's in the text. */
    private static String withoutStatus(String reply) {
        return reply.replaceFirst("^(\\d{3}) \\d\\.\\d{1,3}\\.\\d{1,3} ", "$1 ").replaceFirst(" \\(#\\d\\.\\d{1,3}\\.\\d{1,3}\\)$", "");
    }
}
