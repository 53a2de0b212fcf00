package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * badmailfromto side by side with qpsmtpd's plugin of the same name, both reading the same tab-separated pairs
 * (qpsmtpd's config/badmailfromto, Postern's config item badmailfromto): the same sender and recipient get the
 * same reply, except for a sender listed twice, of whose pairs qpsmtpd applies only the last.
 */
public class BadMailFromToReferenceIT {
    private static final List<String> PAIRS = List.of("stalker@example.org\tvictim@example.com", "@spam.example\tceo@example.com",
            "bob@other.example\tvictim@example.com", "@other.example\tboss@example.com");
    private static final String REFUSED_VICTIM = "550 mail to victim@example.com not accepted here";
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startBoth() throws Exception {
        qpsmtpd = ServerProcess.qpsmtpdWithPlugins(List.of("localhost", "example.com"),
                Map.of("badmailfromto", String.join("\n", PAIRS) + "\n"), "badmailfromto");
        // the tab as a .cfg file writes it
        postern = ServerProcess.posternWithPlugins("badmailfromto", Map.of("org.postern.smtp.config.cfg",
                "rcpthosts = localhost, example.com\nbadmailfromto = " + String.join(", ", PAIRS).replace("\t", "\\t")),
                List.of("plugin-badmailfromto")).awaitPlugin("badmailfromto");
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
    public void listedPairsGetQpsmtpdsReply() throws Exception {
        assertBothReply("<stalker@example.org>", "<victim@example.com>", REFUSED_VICTIM);
        assertBothReply("<STALKER@Example.ORG>", "<Victim@Example.COM>", REFUSED_VICTIM);
        assertBothReply("<anyone@spam.example>", "<ceo@example.com>", "550 mail to ceo@example.com not accepted here");
        assertBothReply("<bob@other.example>", "<boss@example.com>", "550 mail to boss@example.com not accepted here");
        assertBothReply("<stalker@example.org>", "<friend@example.com>", "250 <friend@example.com>, recipient ok");
        assertBothReply("<friend@example.org>", "<victim@example.com>", "250 <victim@example.com>, recipient ok");
        assertBothReply("<>", "<victim@example.com>", "250 <victim@example.com>, recipient ok");
    }

    /**
     * bob@other.example is listed by address and by domain; qpsmtpd keeps only the last entry that lists the sender
     * (@other.example) and so forgets bob's own pair. Postern applies every pair.
     */
    @Test
    public void everyPairOfASenderListedTwiceApplies() throws Exception {
        assertEquals("250 <victim@example.com>, recipient ok", reply(qpsmtpd.port, "<bob@other.example>", "<victim@example.com>"));
        assertEquals("550 5.1.1 mail to victim@example.com not accepted here",
                reply(postern.port, "<bob@other.example>", "<victim@example.com>"));
    }

    private static void assertBothReply(String sender, String recipient, String expected) throws Exception {
        String pair = sender + " to " + recipient;
        assertEquals("qpsmtpd, " + pair, expected, reply(qpsmtpd.port, sender, recipient));
        String actual = reply(postern.port, sender, recipient);
        assertEquals("Postern, " + pair, expected, actual.replaceFirst("^(\\d{3}) \\d\\.\\d{1,3}\\.\\d{1,3} ", "$1 "));
        if (expected.startsWith("550")) {
            assertTrue("as for a mailbox that does not exist: " + actual, actual.startsWith("550 5.1.1 "));
        }
    }

    private static String reply(int port, String sender, String recipient) throws Exception {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            client.command("HELO client.example");
            client.command("MAIL FROM:" + sender);
            return client.command("RCPT TO:" + recipient);
        }
    }
}
