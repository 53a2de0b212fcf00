package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * parse_addr_withhelo side by side with qpsmtpd's plugin of the same name: after HELO, MAIL and RCPT parameters
 * are refused with the same replies; after EHLO they are not the plugin's business.
 */
public class ParseAddrWithHeloReferenceIT {
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startBoth() throws Exception {
        qpsmtpd = ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(), "parse_addr_withhelo");
        postern = ServerProcess.posternWithPlugins("parse_addr_withhelo", Map.of(), List.of("plugin-parse-addr-withhelo"))
                .awaitPlugin("parse_addr_withhelo");
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
    public void afterHeloParametersAreRefused() throws Exception {
        List<String> lines = List.of("MAIL FROM:<a@example.org> SIZE=100", "MAIL FROM:a@example.org BODY=8BITMIME",
                "MAIL FROM:junk", "MAIL <a@example.org>", "MAIL FROM:a@example.org", "MAIL FROM:",
                "MAIL FROM:<a@example.org>", "RCPT TO:<postmaster@localhost> NOTIFY=NEVER", "RCPT TO:postmaster@localhost ORCPT=x",
                "RCPT TO:bob", "RCPT TO:postmaster@localhost", "RCPT TO:<postmaster@localhost>");
        List<String> expected = replies(qpsmtpd, "HELO client.example", lines);
        assertEquals("MAIL FROM:<a@example.org> SIZE=100 -> 501 No parameters allowed in MAIL", expected.get(0));
        assertEquals("RCPT TO:<postmaster@localhost> -> 250 <postmaster@localhost>, recipient ok", expected.get(lines.size() - 1));
        assertEquals(expected, replies(postern, "HELO client.example", lines));
    }

    @Test
    public void afterEhloParametersAreLeftToTheCore() throws Exception {
        List<String> lines = List.of("MAIL FROM:<a@example.org> SIZE=100", "RCPT TO:<postmaster@localhost>");
        List<String> expected = replies(qpsmtpd, "EHLO client.example", lines);
        assertEquals("MAIL FROM:<a@example.org> SIZE=100 -> 250 <a@example.org>, sender OK - how exciting to get mail from you!",
                expected.get(0));
        assertEquals(expected, replies(postern, "EHLO client.example", lines));
    }

    /**
     * qpsmtpd's parser means to let a bare postmaster or abuse through, but returns no answer for them, which its
     * core reads as a syntax error; Postern passes the name on, and without brackets the core cannot parse it.
     */
    @Test
    public void aBarePostmasterIsPassedOnRatherThanASyntaxError() throws Exception {
        List<String> lines = List.of("MAIL FROM:<a@example.org>", "RCPT TO:postmaster");
        assertEquals("RCPT TO:postmaster -> 501 Syntax error in command", replies(qpsmtpd, "HELO client.example", lines).get(1));
        assertEquals("RCPT TO:postmaster -> 501 could not parse recipient", replies(postern, "HELO client.example", lines).get(1));
    }

    /** The replies to these lines after the greeting command, without the enhanced status codes Postern adds. */
    private static List<String> replies(ServerProcess server, String greeting, List<String> lines) throws Exception {
        try (SmtpClient client = new SmtpClient(server.port)) {
            client.reply();
            client.command(greeting);
            List<String> replies = new ArrayList<>();
            for (String line : lines) {
                replies.add(line + " -> " + client.command(line).replaceFirst("^(\\d{3}) \\d\\.\\d{1,3}\\.\\d{1,3} ", "$1 "));
            }
            return replies;
        }
    }
}
