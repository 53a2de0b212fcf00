package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * rcpt_map side by side with qpsmtpd's plugin of the same name, both for example.org, reading the same map file
 * and with the same default: the same recipients get the same replies, except for the map lines qpsmtpd cannot
 * read (see {@link #linesQpsmtpdMisreadsAreReadAsThePodSays}).
 */
public class RcptMapReferenceIT {
    private static final String MAP = """
            # map for example.org
            ok@example.org OK welcome
            info@example.org DENY User not found.
            moving@example.org DENYSOFT Mailbox moving, try tomorrow
            gone@example.org DENY_DISCONNECT Gone for good
            bare@example.org OK
            Boss@example.org OK hi
            spaced@example.org    DENY    Spaced out
            """;
    private static Path map;
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startBoth() throws Exception {
        Path folder = Files.createTempDirectory("rcpt-map");
        map = Files.writeString(folder.resolve("map_example_org"), MAP);
        // qpsmtpd drops root for its own user, which must read the map too
        folder.toFile().setExecutable(true, false);
        map.toFile().setReadable(true, false);
        qpsmtpd = ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(),
                "rcpt_map domain example.org file " + map + " default DENY=Not_here");
        postern = ServerProcess.posternWithPlugins("rcpt-map", Map.of("org.postern.smtp.plugin.rcpt_map-example.cfg",
                "domain = example.org\nfile = " + map + "\ndefault = DENY=Not_here"), List.of("plugin-rcpt-map"))
                .awaitPlugin("rcpt_map");
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
        for (String recipient : List.of("<ok@example.org>", "<OK@Example.ORG>", "<info@example.org>", "<moving@example.org>",
                "<nobody@example.org>", "<someone@localhost>", "<info@sub.example.org>", "<postmaster>")) {
            assertEquals(recipient, rcptReply(qpsmtpd.port, recipient), rcptReply(postern.port, recipient));
        }
        assertEquals("550 Not here", rcptReply(postern.port, "<nobody@example.org>"));
        assertEquals("450 Mailbox moving, try tomorrow", rcptReply(postern.port, "<moving@example.org>"));
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

    /** Both read the map again before a connection, once it changed. */
    @Test
    public void aChangedMapAnswersTheNextConnection() throws Exception {
        assertEquals("550 Not here", rcptReply(postern.port, "<new@example.org>"));
        Files.writeString(map, "new@example.org DENY Just added\n", StandardOpenOption.APPEND);
        // qpsmtpd compares modification times in whole seconds
        Files.setLastModifiedTime(map, FileTime.from(Instant.now().plusSeconds(10)));
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            assertEquals("550 Just added", rcptReply(server.port, "<new@example.org>"));
        }
    }

    /**
     * qpsmtpd splits map lines at single spaces without removing the line end, so a line without a reply (its code
     * then ends in a newline) or with several spaces has no valid code and is skipped, and it keeps the address's
     * case, so Boss@ never matches; Postern reads each as the POD describes.
     */
    @Test
    public void linesQpsmtpdMisreadsAreReadAsThePodSays() throws Exception {
        for (String recipient : List.of("<bare@example.org>", "<boss@example.org>", "<spaced@example.org>")) {
            assertEquals(recipient, "550 Not here", rcptReply(qpsmtpd.port, recipient));
        }
        assertEquals("250 <bare@example.org>, recipient ok", rcptReply(postern.port, "<bare@example.org>"));
        assertEquals("250 <boss@example.org>, recipient ok", rcptReply(postern.port, "<boss@example.org>"));
        assertEquals("550 Spaced out", rcptReply(postern.port, "<spaced@example.org>"));
    }

    private static SmtpClient transaction(int port) throws Exception {
        SmtpClient client = new SmtpClient(port);
        client.reply();
        client.command("HELO client.example");
        client.command("MAIL FROM:<a@example.org>");
        return client;
    }

    /** The reply to RCPT TO, on a connection of its own (qpsmtpd sends the map's line end after a reply). */
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
