package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * noop_counter side by side with qpsmtpd's plugin of the same name, with its default (3) and with 5: the same
 * client lines get the same replies, and the connection closes at the same NOOP.
 */
public class NoopCounterReferenceIT {
    private static final String STOP = "500 Stop wasting my time, too many consecutive NOOPs";
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess qpsmtpdDefault;
    private static ServerProcess posternDefault;
    private static ServerProcess qpsmtpdFive;
    private static ServerProcess posternFive;

    @BeforeClass
    public static void startServers() throws Exception {
        qpsmtpdDefault = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(), "noop_counter"));
        posternDefault = SERVERS.add(postern("default", Map.of()));
        qpsmtpdFive = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(), "noop_counter 5"));
        posternFive = SERVERS.add(postern("five", Map.of("org.postern.smtp.plugin.noop_counter.cfg", "max_noop = 5")));
    }

    /** Postern with the plugin installed, and no configuration of its own unless given. */
    private static ServerProcess postern(String name, Map<String, String> etcLines) throws Exception {
        return ServerProcess.posternWithPlugins("noop-counter-" + name, etcLines, List.of("plugin-noop-counter"))
                .awaitPlugin("noop_counter");
    }

    @Test
    public void theThirdConsecutiveNoopClosesTheConnectionByDefault() throws Exception {
        List<String> lines = List.of("NOOP", "NOOP", "NOOP", "QUIT");
        List<String> qpsmtpdReplies = ClientScript.replies(qpsmtpdDefault, lines);
        assertEquals(List.of("250 OK", "250 OK", STOP, "closed"), qpsmtpdReplies);
        assertEquals(qpsmtpdReplies, ClientScript.replies(posternDefault, lines));
    }

    @Test
    public void theCommandsQpsmtpdBindsStartTheCountAfresh() throws Exception {
        List<String> lines = List.of("NOOP", "NOOP", "HELO client.example", "NOOP", "NOOP", "MAIL FROM:<a@example.org>",
                "NOOP", "NOOP", "RCPT TO:<postmaster@localhost>", "NOOP", "NOOP", "RSET", "NOOP", "NOOP", "VRFY postmaster",
                "NOOP", "NOOP", "HELP", "NOOP", "NOOP", "NOOP", "QUIT");
        List<String> qpsmtpdReplies = withoutHelpText(lines, ClientScript.replies(qpsmtpdDefault, lines));
        assertEquals(STOP, qpsmtpdReplies.get(20));
        assertEquals("closed", qpsmtpdReplies.get(21));
        assertEquals(qpsmtpdReplies, withoutHelpText(lines, ClientScript.replies(posternDefault, lines)));
    }

    /** In a session of its own: qpsmtpd refuses a second HELO or EHLO (503) before its hooks run. */
    @Test
    public void ehloStartsTheCountAfresh() throws Exception {
        List<String> lines = List.of("NOOP", "NOOP", "EHLO client.example", "NOOP", "NOOP", "NOOP", "QUIT");
        List<String> qpsmtpdReplies = ClientScript.replies(qpsmtpdDefault, lines);
        assertEquals(List.of("250 OK", "250 OK", "250-localhost Hi", "250 OK", "250 OK", STOP, "closed"), qpsmtpdReplies);
        assertEquals(qpsmtpdReplies, ClientScript.replies(posternDefault, lines));
    }

    @Test
    public void aMessageEndsTheCountAndUnrecognizedCommandsDoNot() throws Exception {
        List<String> lines = List.of("EHLO client.example", "MAIL FROM:<a@example.org>", "RCPT TO:<postmaster@localhost>",
                "NOOP", "NOOP", "DATA", "Subject: noop_counter\r\n\r\nHello.\r\n.", "NOOP", "NOOP", "FOO", "NOOP", "QUIT");
        List<String> qpsmtpdReplies = ClientScript.replies(qpsmtpdDefault, lines);
        assertEquals(STOP, qpsmtpdReplies.get(10));
        assertEquals(withoutQueueText(qpsmtpdReplies), withoutQueueText(ClientScript.replies(posternDefault, lines)));
    }

    @Test
    public void maxNoopFiveClosesAtTheFifthAsInQpsmtpd() throws Exception {
        List<String> lines = List.of("NOOP", "NOOP", "NOOP", "NOOP", "RSET", "NOOP", "NOOP", "NOOP", "NOOP", "NOOP", "QUIT");
        List<String> qpsmtpdReplies = ClientScript.replies(qpsmtpdFive, lines);
        List<String> nineOkThenStop = new ArrayList<>(Collections.nCopies(9, "250 OK"));
        nineOkThenStop.addAll(List.of(STOP, "closed"));
        assertEquals(nineOkThenStop, qpsmtpdReplies);
        assertEquals(qpsmtpdReplies, ClientScript.replies(posternFive, lines));
    }

    /** The reply to HELP by its code: without a help plugin, each server describes itself. */
    private static List<String> withoutHelpText(List<String> lines, List<String> replies) {
        List<String> comparable = new ArrayList<>(replies);
        comparable.set(lines.indexOf("HELP"), replies.get(lines.indexOf("HELP")).substring(0, 3));
        return comparable;
    }

    /** The reply to the message's final dot by its code: each queue plugin words its 250 its own way. */
    private static List<String> withoutQueueText(List<String> replies) {
        return replies.stream().map(reply -> reply.startsWith("250 Queued") ? "250" : reply).toList();
    }
}
