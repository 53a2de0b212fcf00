package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * badmailfrom side by side with qpsmtpd's plugin of the same name, both reading the same list (qpsmtpd's
 * config/badmailfrom, Postern's config item badmailfrom): the same senders get the same replies.
 */
public class BadMailFromReferenceIT {
    private static final String LIST = "spammer@example.com\n@junk.example\n";
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startBoth() throws Exception {
        qpsmtpd = ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of("badmailfrom", LIST), "badmailfrom");
        postern = ServerProcess.posternWithPlugins("badmailfrom", Map.of(
                "org.postern.smtp.config.cfg", "badmailfrom = " + String.join(", ", LIST.strip().split("\n")),
                "org.postern.smtp.plugin.badmailfrom-reference.cfg", "use_config_item = true"), List.of("plugin-badmailfrom"))
                .awaitPlugin("badmailfrom");
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
    public void listedSendersGetQpsmtpdsReply() throws Exception {
        for (String sender : List.of("<spammer@example.com>", "<SPAMMER@Example.COM>", "<anyone@junk.example>", "<friend@example.com>", "<>")) {
            assertEquals(sender, reply(qpsmtpd.port, sender), reply(postern.port, sender));
        }
    }

    /** The reply code and text to MAIL FROM, without the enhanced status code Postern adds. */
    private static String reply(int port, String sender) throws Exception {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            client.command("HELO client.example");
            String reply = client.command("MAIL FROM:" + sender);
            return reply.replaceFirst("^(\\d{3}) \\d\\.\\d{1,3}\\.\\d{1,3} ", "$1 ");
        }
    }
}
