package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * badrcptto side by side with qpsmtpd's plugin of the same name, both reading the same list (qpsmtpd's
 * config/badrcptto, Postern's config item badrcptto): the same recipients get the same replies, except where an
 * entry carries a reply text, which Postern gives and qpsmtpd drops.
 */
public class BadRcptToReferenceIT {
    private static final List<String> LIST = List.of("Closed@Example.com", "@junk.example", "^postmaster-.*@example\\.com$",
            "^.*%.*@ Percent hack not allowed here");
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startBoth() throws Exception {
        qpsmtpd = ServerProcess.qpsmtpdWithPlugins(List.of("localhost", "example.com"),
                Map.of("badrcptto", String.join("\n", LIST) + "\n"), "badrcptto");
        // a .cfg file reads a backslash as an escape, so each one is doubled
        postern = ServerProcess.posternWithPlugins("badrcptto", Map.of("org.postern.smtp.config.cfg",
                "rcpthosts = localhost, example.com\nbadrcptto = " + String.join(", ", LIST).replace("\\", "\\\\")),
                List.of("plugin-badrcptto")).awaitPlugin("badrcptto");
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
    public void listedRecipientsGetQpsmtpdsReply() throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("<Closed@Example.com>", "550 mail to Closed@Example.com not accepted here");
        expected.put("<CLOSED@example.COM>", "550 mail to Closed@Example.com not accepted here");
        expected.put("<anyone@junk.example>", "550 mail to @junk.example not accepted here");
        expected.put("<Postmaster-Abuse@Example.com>", "550 mail to ^postmaster-.*@example\\.com$ not accepted here");
        expected.put("<anyone@sub.junk.example>", "550 Relaying denied");
        expected.put("<friend@example.com>", "250 <friend@example.com>, recipient ok");
        expected.put("<postmaster>", "250 <postmaster>, recipient ok");
        for (Map.Entry<String, String> recipient : expected.entrySet()) {
            String reference = reply(qpsmtpd.port, recipient.getKey());
            String actual = reply(postern.port, recipient.getKey());
            assertEquals("qpsmtpd, " + recipient.getKey(), recipient.getValue(), withoutStatus(reference));
            assertEquals("Postern, " + recipient.getKey(), recipient.getValue(), withoutStatus(actual));
            if (reference.endsWith("(#5.1.1)")) {
                assertTrue(recipient.getKey() + ": " + actual, actual.startsWith("550 5.1.1 "));
            }
        }
    }

    /** qpsmtpd documents an entry's reply text (pattern, white space, response) but answers with the entry itself. */
    @Test
    public void anEntrysReplyTextIsGivenWhereQpsmtpdDropsIt() throws Exception {
        String recipient = "<victim%elsewhere.example@example.com>";
        assertEquals("550 mail to ^.*%.*@ not accepted here", reply(qpsmtpd.port, recipient));
        assertEquals("550 5.7.1 Percent hack not allowed here", reply(postern.port, recipient));
    }

    private static String reply(int port, String recipient) throws Exception {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            client.command("HELO client.example");
            client.command("MAIL FROM:<sender@example.org>");
            return client.command("RCPT TO:" + recipient);
        }
    }

    /** The reply code and text, without Postern's enhanced status code or qpsmtpd's "(#x.y.z)" after the text. */
    private static String withoutStatus(String reply) {
        return reply.replaceFirst("^(\\d{3}) \\d\\.\\d{1,3}\\.\\d{1,3} ", "$1 ").replaceFirst(" \\(#\\d\\.\\d{1,3}\\.\\d{1,3}\\)$", "");
    }
}
