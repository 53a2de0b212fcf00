package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * count_unrecognized_commands side by side with qpsmtpd's plugin of the same name, with its default (4) and with
 * a count of 2: the same client lines get the same replies, and the connection closes at the same command. A
 * third Postern shows the core's own limit, {@code max.errors}, which counts every syntax error.
 */
public class CountUnrecognizedCommandsReferenceIT {
    private static final String PLUGIN_CFG = "org.postern.smtp.plugin.count_unrecognized_commands.cfg";
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess qpsmtpdDefault;
    private static ServerProcess posternDefault;
    private static ServerProcess qpsmtpdTwo;
    private static ServerProcess posternTwo;
    private static ServerProcess posternFewErrors;

    @BeforeClass
    public static void startServers() throws Exception {
        qpsmtpdDefault = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(),
                "count_unrecognized_commands"));
        posternDefault = SERVERS.add(postern("default", Map.of()));
        qpsmtpdTwo = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(),
                "count_unrecognized_commands 2"));
        posternTwo = SERVERS.add(postern("two", Map.of(PLUGIN_CFG, "count = 2")));
        posternFewErrors = SERVERS.add(postern("few-errors", Map.of("org.postern.smtp.server.cfg", "max.errors = 3")));
    }

    /** Postern with the plugin installed, and no configuration of its own unless given. */
    private static ServerProcess postern(String name, Map<String, String> etcLines) throws Exception {
        return ServerProcess.posternWithPlugins("count-unrecognized-" + name, etcLines,
                List.of("plugin-count-unrecognized-commands")).awaitPlugin("count_unrecognized_commands");
    }

    @Test
    public void theFourthUnrecognizedCommandClosesTheConnectionByDefault() throws Exception {
        List<String> lines = List.of("GET / HTTP/1.0", "NOOP", "Host: www.example.org", "HELO client.example", "",
                "User-Agent: curl", "QUIT");
        List<String> qpsmtpdReplies = ClientScript.replies(qpsmtpdDefault, lines);
        assertEquals(List.of("500 Unrecognized command", "250 OK", "500 Unrecognized command", "250 localhost Hi",
                "500 Unrecognized command",
                "521 Closing connection, 4 unrecognized commands. Perhaps you should read RFC 2821?", "closed"),
                qpsmtpdReplies);
        assertEquals(qpsmtpdReplies, ClientScript.replies(posternDefault, lines));
    }

    @Test
    public void countTwoClosesAtTheSecondAsInQpsmtpd() throws Exception {
        List<String> lines = List.of("EHLO client.example", "STARTTLS", "RSET", "XCLIENT NAME=spoofed", "QUIT");
        List<String> qpsmtpdReplies = ClientScript.replies(qpsmtpdTwo, lines);
        assertEquals("521 Closing connection, 2 unrecognized commands. Perhaps you should read RFC 2821?",
                qpsmtpdReplies.get(3));
        assertEquals(qpsmtpdReplies, ClientScript.replies(posternTwo, lines));
    }

    @Test
    public void aSessionWithoutTooManyUnrecognizedCommandsGoesOn() throws Exception {
        List<String> lines = List.of("FOO", "HELO client.example", "MAIL FROM:<a@example.org>",
                "RCPT TO:<postmaster@localhost>", "QUIT");
        List<String> qpsmtpdReplies = ClientScript.replies(qpsmtpdTwo, lines);
        assertEquals("221 localhost closing connection. Have a wonderful day.", qpsmtpdReplies.get(4));
        assertEquals(qpsmtpdReplies, ClientScript.replies(posternTwo, lines));
    }

    /**
     * Postern's core counts syntax and sequence errors (500–504, 555), unrecognized commands among them, and
     * closes when they reach {@code max.errors}: the error's own reply, then 421. Below the plugin's count, the
     * core's limit comes first.
     */
    @Test
    public void theCoresErrorLimitCountsOtherErrorsToo() throws Exception {
        String tooManyErrors = "421 localhost Too many errors, closing connection";
        assertEquals(List.of("500 Unrecognized command", "500 Unrecognized command", "500 Unrecognized command", tooManyErrors,
                "closed"), ClientScript.replies(posternFewErrors, List.of("FOO", "BAR", "BAZ", "QUIT")));
        assertEquals(List.of("500 Unrecognized command", "503 please say hello first ...", "500 Unrecognized command",
                tooManyErrors, "closed"),
                ClientScript.replies(posternFewErrors, List.of("FOO", "MAIL FROM:<a@example.org>", "BAR", "QUIT")));
    }
}
