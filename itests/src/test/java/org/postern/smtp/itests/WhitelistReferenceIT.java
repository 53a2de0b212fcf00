package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * whitelist side by side with qpsmtpd's plugin of the same name, before two refusing plugins present in both that
 * honour it: helo (badhelo entries; immune hosts skip it) and badrcptto (immune hosts and senders skip it). The
 * same lists go into qpsmtpd's config files and Postern's config items. One pair of servers whitelists 127.0.0.1
 * (the test client); the other lists a host the client is not.
 */
public class WhitelistReferenceIT {
    private static final Map<String, List<String>> LISTS = Map.of(
            "whitelisthelo", List.of("yahoo.com"),
            "whitelistsenders", List.of("Friend@Example.NET", "trusted.example"),
            "whitelistrcpt", List.of("abuse@example.com", "partner.example"),
            "badhelo", List.of("yahoo.com", "aol.com"),
            "badrcptto", List.of("bad@example.com", "abuse@example.com"));
    private static final String REFUSED_RECIPIENT = "550 mail to bad@example.com not accepted here";
    private static final String ACCEPTED_RECIPIENT = "250 <bad@example.com>, recipient ok";
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess qpsmtpdLists;
    private static ServerProcess posternLists;
    private static ServerProcess qpsmtpdHost;
    private static ServerProcess posternHost;

    @BeforeClass
    public static void startServers() throws Exception {
        qpsmtpdLists = SERVERS.add(qpsmtpd("10.0.0"));
        posternLists = SERVERS.add(postern("lists", "10.0.0"));
        qpsmtpdHost = SERVERS.add(qpsmtpd("127.0.0"));
        posternHost = SERVERS.add(postern("host", "127.0.0"));
    }

    private static ServerProcess qpsmtpd(String whitelistedHosts) throws Exception {
        Map<String, String> files = new HashMap<>(Map.of("whitelisthosts", whitelistedHosts + "\n"));
        LISTS.forEach((item, values) -> files.put(item, String.join("\n", values) + "\n"));
        return ServerProcess.qpsmtpdWithPlugins(List.of("localhost", "example.com"), files, "whitelist", "helo",
                "badrcptto");
    }

    /** The same lists as config items: the lines an administrator pastes into org.postern.smtp.config.cfg. */
    private static ServerProcess postern(String name, String whitelistedHosts) throws Exception {
        StringBuilder config = new StringBuilder("rcpthosts = localhost, example.com\nwhitelisthosts = " + whitelistedHosts + "\n");
        LISTS.forEach((item, values) -> config.append(item).append(" = ").append(String.join(", ", values)).append('\n'));
        return ServerProcess.posternWithPlugins("whitelist-" + name, Map.of("org.postern.smtp.config.cfg", config.toString()),
                        List.of("plugin-whitelist", "plugin-helo", "plugin-badrcptto"))
                .awaitPlugin("whitelist").awaitPlugin("helo").awaitPlugin("badrcptto");
    }

    @Test
    public void aListedHeloNameGetsPastTheHeloPlugin() throws Exception {
        assertSame(qpsmtpdLists, posternLists, List.of("HELO yahoo.com", "QUIT"),
                List.of("250 localhost Hi", "221 localhost closing connection. Have a wonderful day.", "closed"));
        assertSame(qpsmtpdLists, posternLists, List.of("EHLO aol.com", "QUIT"),
                List.of("550 I do not believe you are aol.com.", "closed"));
    }

    @Test
    public void aListedSenderGetsPastBadrcpttoForItsTransactionOnly() throws Exception {
        List<String> lines = List.of("HELO client.example",
                "MAIL FROM:<stranger@example.org>", "RCPT TO:<bad@example.com>", "RSET",
                "MAIL FROM:<friend@example.net>", "RCPT TO:<bad@example.com>", "RSET",
                "MAIL FROM:<Someone@Trusted.Example>", "RCPT TO:<bad@example.com>", "RSET",
                "MAIL FROM:<someone@sub.trusted.example>", "RCPT TO:<bad@example.com>", "QUIT");
        List<String> replies = assertSame(qpsmtpdLists, posternLists, lines, null);
        assertEquals(List.of(REFUSED_RECIPIENT, ACCEPTED_RECIPIENT, ACCEPTED_RECIPIENT, REFUSED_RECIPIENT),
                List.of(replies.get(2), replies.get(5), replies.get(8), replies.get(11)));
        assertEquals("250 <friend@example.net>, sender OK - how exciting to get mail from you!", replies.get(4));
    }

    @Test
    public void aListedRecipientGetsPastBadrcpttoAndRcptOk() throws Exception {
        List<String> lines = List.of("HELO client.example", "MAIL FROM:<stranger@example.org>",
                "RCPT TO:<Abuse@Example.com>", "RCPT TO:<bad@example.com>", "RCPT TO:<anyone@partner.example>",
                "RCPT TO:<anyone@elsewhere.example>", "QUIT");
        List<String> replies = assertSame(qpsmtpdLists, posternLists, lines, null);
        assertEquals(List.of("250 <Abuse@Example.com>, recipient ok", REFUSED_RECIPIENT,
                "250 <anyone@partner.example>, recipient ok", "550 Relaying denied"), replies.subList(2, 6));
    }

    @Test
    public void aListedHostGetsPastHeloAndBadrcptto() throws Exception {
        List<String> lines = List.of("HELO aol.com", "MAIL FROM:<stranger@example.org>", "RCPT TO:<bad@example.com>", "QUIT");
        List<String> replies = assertSame(qpsmtpdHost, posternHost, lines, null);
        assertEquals(List.of("250 localhost Hi", ACCEPTED_RECIPIENT), List.of(replies.get(0), replies.get(2)));
    }

    /** qpsmtpd's rcpt_ok lets every immune client relay; Postern's only relay clients (see its README). */
    @Test
    public void aListedHostRelaysInQpsmtpdOnly() throws Exception {
        List<String> lines = List.of("HELO client.example", "MAIL FROM:<stranger@example.org>",
                "RCPT TO:<anyone@elsewhere.example>", "QUIT");
        assertEquals("250 <anyone@elsewhere.example>, recipient ok", ClientScript.replies(qpsmtpdHost, lines).get(2));
        assertEquals("550 Relaying denied", ClientScript.replies(posternHost, lines).get(2));
    }

    /**
     * Runs the lines on both servers; both must answer alike, and as expected when that is given. qpsmtpd's
     * "(#5.1.1)" after a reply's text is left out: Postern gives that status code before the text.
     */
    private static List<String> assertSame(ServerProcess qpsmtpd, ServerProcess postern, List<String> lines,
            List<String> expected) throws Exception {
        List<String> reference = ClientScript.replies(qpsmtpd, lines).stream()
                .map(reply -> reply.replaceFirst(" \\(#\\d\\.\\d{1,3}\\.\\d{1,3}\\)$", "")).toList();
        if (expected != null) {
            assertEquals("qpsmtpd", expected, reference);
        }
        assertEquals("Postern", reference, ClientScript.replies(postern, lines));
        return reference;
    }
}
