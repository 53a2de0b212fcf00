package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * spamassassin against Debian's spamd (started once for the class, on a loopback port and a Unix socket, local tests
 * only), side by side with qpsmtpd 0.94's plugin of the same name on the same spamd. spamd reads per-user preferences
 * from a folder of the test's own, where alice@localhost scores GTUBE 10 instead of 1000: a message for her alone is
 * spam she gets (marked), with another recipient it is refused.
 *
 * <p>One Postern serves every configuration: each is an instance of the plugin (a factory configuration) kept to a
 * listener of its own with {@code postern.listeners}. The main one (the default listener) reaches spamd over its Unix
 * socket, the others and qpsmtpd over TCP.
 */
public class SpamAssassinIT {
    private static final String GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
    private static final String MAIN = "reject = 20\nmunge_subject_threshold = 5\nspamd_user = vpopmail\n";
    /** The configurations besides the main one: listener and instance name, keys (spamd_socket comes on top). */
    private static final Map<String, String> OTHERS = new LinkedHashMap<>();

    static {
        OTHERS.put("temp", "reject = 20\nreject_type = temp");
        OTHERS.put("disconnect", "reject = 20\nreject_type = disconnect");
        OTHERS.put("drop", "leave_old_headers = drop");
        OTHERS.put("keep", "leave_old_headers = keep");
        OTHERS.put("down", "reject = 20");
        OTHERS.put("defer", "reject = 20\nspamd_down = defer");
    }

    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static final AtomicInteger MESSAGES = new AtomicInteger();
    private static Spamd spamd;
    /** Where spamd listens, and a port where nothing does (the down and defer instances' spamd). */
    private static int spamdPort;
    private static Path spamdSocket;
    private static int downPort;
    private static ServerProcess postern;
    /** Postern's port for each configuration ("main" is the default listener). */
    private static final Map<String, Integer> PORTS = new LinkedHashMap<>();
    /** qpsmtpd with each configuration that its plugin has. */
    private static final Map<String, ServerProcess> QPSMTPD = new LinkedHashMap<>();

    @BeforeClass
    public static void startSpamdAndServers() throws Exception {
        spamd = Spamd.start(Map.of("alice@localhost", "score GTUBE 10\n"));
        spamdPort = spamd.port;
        spamdSocket = spamd.socket;

        downPort = ServerProcess.freePort();
        Map<String, String> tcp = new LinkedHashMap<>();
        OTHERS.keySet().forEach(name -> tcp.put(name, "spamd_socket = 127.0.0.1:" + (name.equals("down") || name.equals("defer") ? downPort : spamdPort)));
        Map<String, String> etc = new LinkedHashMap<>();
        StringBuilder listen = new StringBuilder("listen = 127.0.0.1:" + ServerProcess.PORT);
        etc.put("org.postern.smtp.plugin.spamassassin-main.cfg", MAIN + "spamd_socket = " + spamdSocket + "\npostern.listeners = default");
        for (Map.Entry<String, String> other : OTHERS.entrySet()) {
            int port = ServerProcess.freePort();
            PORTS.put(other.getKey(), port);
            listen.append(", ").append(other.getKey()).append("=127.0.0.1:").append(port);
            etc.put("org.postern.smtp.plugin.spamassassin-" + other.getKey() + ".cfg",
                    other.getValue() + "\n" + tcp.get(other.getKey()) + "\npostern.listeners = " + other.getKey());
        }
        etc.put(ServerProcess.SERVER_CFG, listen.toString());
        postern = SERVERS.add(ServerProcess.posternWithPlugins("spamassassin", etc, List.of("plugin-spamassassin")));
        PORTS.put("main", postern.port);
        for (String instance : PORTS.keySet()) {
            postern.awaitPlugin("spamassassin:" + instance);
        }

        String spamdAtTcp = "spamassassin spamd_socket 127.0.0.1:" + spamdPort + " ";
        QPSMTPD.put("main", SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(),
                spamdAtTcp + "reject 20 munge_subject_threshold 5 spamd_user vpopmail")));
        for (String name : List.of("temp", "disconnect", "drop", "keep")) {
            QPSMTPD.put(name, SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(),
                    spamdAtTcp + OTHERS.get(name).replace(" = ", " ").replace('\n', ' '))));
        }
        QPSMTPD.put("down", SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(),
                "spamassassin spamd_socket 127.0.0.1:" + downPort + " reject 20")));
    }

    @AfterClass
    public static void stopSpamd() throws InterruptedException {
        if (spamd != null) {
            spamd.close();
        }
    }

    /** A message with a subject no other message of the run has, and this body. */
    private static String message(String body) {
        return message("", body);
    }

    private static String message(String extraFields, String body) {
        return extraFields + "From: a@example.org\r\nTo: bob@localhost\r\nSubject: test " + MESSAGES.incrementAndGet()
                + "\r\nMessage-ID: <" + MESSAGES.get() + "@spamassassin.example>\r\n\r\n" + body + "\r\n";
    }

    private static String ham() {
        return message("Shall we have lunch on Friday? The usual place, at noon.");
    }

    private static String subject(String message) {
        return message.replaceFirst("(?s).*\r\nSubject: ([^\r]*)\r\n.*", "$1");
    }

    /**
     * Sends the message from a@example.org to the recipients (local parts at localhost): the reply to the end of DATA
     * without Postern's enhanced status code, then "closed" if the server closed the connection, else "open".
     */
    private static List<String> send(int port, String message, String... recipients) throws IOException {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            client.command("HELO client.example");
            client.command("MAIL FROM:<a@example.org>");
            for (String recipient : recipients.length == 0 ? new String[] {"bob"} : recipients) {
                String reply = client.command("RCPT TO:<" + recipient + "@localhost>");
                assertTrue(reply, reply.startsWith("250"));
            }
            client.command("DATA");
            client.send(message + ".\r\n");
            String reply = ClientScript.comparable(client.reply()).replaceFirst("^250 Queued.*", "250 Queued");
            return List.of(reply, client.closedByServerWithin(reply.startsWith("250") ? 100 : 1000) ? "closed" : "open");
        }
    }

    private static List<String> postern(String configuration, String message, String... recipients) throws IOException {
        return send(PORTS.get(configuration), message, recipients);
    }

    private static List<String> qpsmtpd(String configuration, String message, String... recipients) throws IOException {
        return send(QPSMTPD.get(configuration).port, message, recipients);
    }

    /** The header of the delivered message with this subject: each field unfolded, as "Name: value". */
    private static List<String> delivered(ServerProcess server, String subject) throws IOException {
        String maildir = server == postern ? "data/maildir" : "maildir";
        for (Path file : server.delivered(maildir)) {
            String text = Files.readString(file, StandardCharsets.ISO_8859_1).replace("\r\n", "\n");
            String header = text.substring(0, text.indexOf("\n\n") + 1);
            if (header.contains("\nSubject: " + subject + "\n")) {
                for (String line : header.split("\n")) {
                    assertTrue(line, line.length() <= 998);
                }
                return List.of(header.replaceAll("\n[ \t]+", " ").split("\n"));
            }
        }
        throw new AssertionError("no message '" + subject + "' in " + server.base.resolve(maildir));
    }

    /** The values of the fields with this name. */
    private static List<String> values(List<String> header, String name) {
        return header.stream().filter(field -> field.regionMatches(true, 0, name + ":", 0, name.length() + 1))
                .map(field -> field.substring(name.length() + 1).strip()).toList();
    }

    private static TreeSet<String> spamFieldNames(List<String> header) {
        TreeSet<String> names = new TreeSet<>();
        header.stream().filter(field -> field.startsWith("X-Spam-") || field.startsWith("X-Old-Spam-"))
                .forEach(field -> names.add(field.substring(0, field.indexOf(':'))));
        return names;
    }

    @Test
    public void healthShowsEachInstancesSpamdAnsweringPingAndNamesTheOneThatIsDown() throws Exception {
        Health.Page page = Health.await(postern, "a peer check per instance", answer -> answer.body().lines()
                .filter(line -> line.contains(" Postern peer: spamd ")).count() == PORTS.size());
        String tcp = "spamd 127.0.0.1:" + spamdPort;
        String unix = "spamd " + spamdSocket;
        String down = "spamd 127.0.0.1:" + downPort;
        assertEquals(page.body(), 4, page.lines("OK Postern peer: " + tcp + ": " + tcp + " answered: SPAMD/1.5 0 PONG"));
        assertEquals(page.body(), 1, page.lines("OK Postern peer: " + unix + ": " + unix + " answered: SPAMD/1.5 0 PONG"));
        assertEquals(page.body(), 2, page.lines("CRITICAL Postern peer: " + down + ": " + down + " did not answer: Connection refused"));
        assertEquals(page.body(), 503, page.status());
    }

    @Test
    public void gtubeIsRefusedAsEachRejectTypeSaysAsByQpsmtpd() throws Exception {
        Map<String, List<String>> expected = Map.of(
                "main", List.of("552 spam score exceeded threshold", "open"),
                "temp", List.of("452 spam score exceeded threshold", "open"),
                "disconnect", List.of("552 spam score exceeded threshold", "closed"));
        for (Map.Entry<String, List<String>> configuration : expected.entrySet()) {
            String spam = message(GTUBE);
            assertEquals(configuration.getKey(), configuration.getValue(), qpsmtpd(configuration.getKey(), spam));
            assertEquals(configuration.getKey(), configuration.getValue(), postern(configuration.getKey(), spam));
        }
    }

    @Test
    public void hamGetsSpamAssassinsFieldsAsFromQpsmtpd() throws Exception {
        String ham = ham();
        assertEquals(List.of("250 Queued", "open"), qpsmtpd("main", ham));
        assertEquals(List.of("250 Queued", "open"), postern("main", ham));
        List<String> header = delivered(postern, subject(ham));
        assertTrue(header.toString(), values(header, "X-Spam-Status").get(0).matches("No, score=-?\\d+\\.\\d required=5\\.0 tests=.*"));
        assertTrue(header.toString(), values(header, "X-Spam-Checker-Version").get(0).startsWith("SpamAssassin 4"));
        assertEquals(spamFieldNames(delivered(QPSMTPD.get("main"), subject(ham))), spamFieldNames(header));
    }

    /** SpamAssassin reads the first 50 kB of each text part (body_part_scan_size): GTUBE is in a part after 400 kB. */
    @Test
    public void gtubeAtTheEndOfALargeMessageIsFound() throws Exception {
        String large = message("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n", "--b\r\n\r\n"
                + "All work and no play makes Jack a dull boy.\r\n".repeat(9_000) + "--b\r\n\r\n" + GTUBE + "\r\n--b--");
        assertTrue(large.length() > 400_000);
        assertEquals("552 spam score exceeded threshold", postern("main", large).get(0));
        assertEquals("452 spam score exceeded threshold", postern("temp", large).get(0));
    }

    @Test
    public void forOneRecipientSpamdUsesItsPreferencesAndTheSubjectIsMarkedAsByQpsmtpd() throws Exception {
        String spam = message(GTUBE);
        assertEquals(List.of("250 Queued", "open"), qpsmtpd("main", spam, "alice"));
        assertEquals(List.of("250 Queued", "open"), postern("main", spam, "alice"));
        List<String> header = delivered(postern, "*** SPAM *** " + subject(spam));
        assertTrue(header.toString(), values(header, "X-Spam-Status").get(0).matches("Yes, score=1\\d\\.\\d required=5\\.0 tests=.*GTUBE.*"));
        assertEquals(List.of("YES"), values(header, "X-Spam-Flag"));
        assertEquals(List.of(), values(header, "X-Spam-User"));
        List<String> reference = delivered(QPSMTPD.get("main"), "*** SPAM *** " + subject(spam));
        assertEquals(values(reference, "Subject"), values(header, "Subject"));
        assertEquals(spamFieldNames(reference), spamFieldNames(header));
    }

    @Test
    public void forSeveralRecipientsSpamdUsesTheDefaultPreferencesAndTheMessageSaysSoAsInQpsmtpd() throws Exception {
        String spam = message(GTUBE);
        assertEquals(List.of("552 spam score exceeded threshold", "open"), qpsmtpd("main", spam, "alice", "bob"));
        assertEquals(List.of("552 spam score exceeded threshold", "open"), postern("main", spam, "alice", "bob"));

        String ham = ham();
        assertEquals(List.of("250 Queued", "open"), qpsmtpd("main", ham, "alice", "bob"));
        assertEquals(List.of("250 Queued", "open"), postern("main", ham, "alice", "bob"));
        assertEquals(List.of("vpopmail, 2 recipients"), values(delivered(QPSMTPD.get("main"), subject(ham)), "X-Spam-User"));
        assertEquals(List.of("vpopmail, 2 recipients"), values(delivered(postern, subject(ham)), "X-Spam-User"));
    }

    @Test
    public void fieldsTheMessageCameWithAreRenamedDroppedOrKeptAsByQpsmtpd() throws Exception {
        String forged = "X-Spam-Status: No, score=-50.0 required=5.0 forged\r\n";
        Map<String, List<List<String>>> expected = Map.of(
                "main", List.of(List.of("No, score=-50.0 required=5.0 forged"), List.of()),
                "drop", List.of(List.of(), List.of()),
                "keep", List.of(List.of(), List.of("No, score=-50.0 required=5.0 forged")));
        for (Map.Entry<String, List<List<String>>> configuration : expected.entrySet()) {
            String message = message(forged, "Shall we have lunch on Friday? The usual place, at noon.");
            qpsmtpd(configuration.getKey(), message);
            postern(configuration.getKey(), message);
            for (ServerProcess server : List.of(QPSMTPD.get(configuration.getKey()), postern)) {
                List<String> header = delivered(server, subject(message));
                List<String> status = values(header, "X-Spam-Status");
                assertEquals(configuration.getKey() + " " + header, configuration.getValue(),
                        List.of(values(header, "X-Old-Spam-Status"), status.stream().filter(value -> value.endsWith("forged")).toList()));
                assertTrue(header.toString(), status.stream().anyMatch(value -> value.startsWith("No, score=") && !value.endsWith("forged")));
            }
        }
    }

    @Test
    public void whenSpamdIsDownTheMessagePassesUnscannedAsInQpsmtpdOrIsDeferred() throws Exception {
        String spam = message(GTUBE);
        assertEquals(List.of("250 Queued", "open"), qpsmtpd("down", spam));
        assertEquals(List.of("250 Queued", "open"), postern("down", spam));
        for (ServerProcess server : List.of(QPSMTPD.get("down"), postern)) {
            assertEquals(new TreeSet<>(), spamFieldNames(delivered(server, subject(spam))));
        }
        assertEquals(List.of("451 Unable to scan for spam", "open"), postern("defer", message(GTUBE)));
        List<String> warnings = new ArrayList<>(postern.log().lines().filter(line -> line.contains("Connection refused")).toList());
        assertTrue(postern.log(), warnings.stream().anyMatch(line -> line.endsWith("; passed unscanned")));
        assertTrue(postern.log(), warnings.stream().anyMatch(line -> line.endsWith("; deferred")));
    }
}
