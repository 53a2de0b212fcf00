package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * dont_require_anglebrackets side by side with qpsmtpd's plugin of the same name: the same MAIL and RCPT lines,
 * with and without angle brackets, get the same replies.
 */
public class DontRequireAnglebracketsReferenceIT {
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startBoth() throws Exception {
        qpsmtpd = ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(), "dont_require_anglebrackets");
        postern = ServerProcess.posternWithPlugins("dont_require_anglebrackets", Map.of(),
                List.of("plugin-dont-require-anglebrackets")).awaitPlugin("dont_require_anglebrackets");
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
    public void addressesWithoutBracketsAreTakenAsIfBracketed() throws Exception {
        List<String> lines = List.of("MAIL FROM:user@example.org", "RCPT TO:postmaster@localhost", "RCPT TO:postmaster",
                "RCPT TO:<postmaster@localhost>", "MAIL FROM:<user@example.org>", "RCPT TO:Postmaster@LOCALHOST",
                "MAIL FROM:", "MAIL FROM:<>", "MAIL FROM:user@example.org BODY=8BITMIME",
                "MAIL FROM:<user@example.org", "MAIL FROM:user@example.org>");
        List<String> expected = replies(qpsmtpd, lines);
        assertEquals("MAIL FROM:user@example.org -> 250 <user@example.org>, sender OK - how exciting to get mail from you!",
                expected.get(0));
        assertEquals("RCPT TO:postmaster@localhost -> 250 <postmaster@localhost>, recipient ok", expected.get(1));
        assertEquals(expected, replies(postern, lines));
    }

    /** The replies to these lines in one HELO session, without the enhanced status codes Postern adds. */
    private static List<String> replies(ServerProcess server, List<String> lines) throws Exception {
        try (SmtpClient client = new SmtpClient(server.port)) {
            client.reply();
            client.command("HELO client.example");
            List<String> replies = new ArrayList<>();
            for (String line : lines) {
                replies.add(line + " -> " + client.command(line).replaceFirst("^(\\d{3}) \\d\\.\\d{1,3}\\.\\d{1,3} ", "$1 "));
            }
            return replies;
        }
    }
}
