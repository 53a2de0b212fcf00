package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * virus/clamdscan against a real clamd with a signature for the EICAR test string, through the distribution: Postern
 * over clamd's Unix socket (qpsmtpd's defaults otherwise, but max_size) and over TCP (defer_on_error, no max_size),
 * side by side with qpsmtpd 0.94's plugin over the same socket. clamd's StreamMaxLength is 10 MB.
 */
public class ClamdScanIT {
    private static final String CFG = "org.postern.smtp.plugin.virus.clamdscan.cfg";
    private static final String HEAD = "From: a@example.org\r\nTo: b@localhost\r\n";

    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Clamd clamd;
    private static ServerProcess overSocket;
    private static ServerProcess overTcp;
    private static ServerProcess qpsmtpd;
    private static ServerProcess qpsmtpdOverTcp;

    @BeforeClass
    public static void startClamdAndServers() throws Exception {
        clamd = Clamd.start("10M");
        overSocket = SERVERS.add(ServerProcess.posternWithPlugins("clamdscan-socket", Map.of(CFG,
                "clamd_socket = " + clamd.socket + "\nmax_size = 20480"), List.of("plugin-virus-clamdscan")))
                .awaitPlugin("virus/clamdscan");
        overTcp = SERVERS.add(ServerProcess.posternWithPlugins("clamdscan-tcp", Map.of(CFG,
                "clamd_host = 127.0.0.1\nclamd_port = " + clamd.port + "\nmax_size = 0\ndefer_on_error = yes"),
                List.of("plugin-virus-clamdscan"))).awaitPlugin("virus/clamdscan");
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(),
                "virus/clamdscan clamd_socket " + clamd.socket + " max_size 20480"));
        qpsmtpdOverTcp = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(),
                "virus/clamdscan clamd_host 127.0.0.1 clamd_port " + clamd.port));
    }

    @AfterClass
    public static void stopClamd() throws InterruptedException {
        if (clamd != null) {
            clamd.close();
        }
    }

    private static String message(String subject, String body) {
        return HEAD + "Subject: " + subject + "\r\n\r\n" + body + "\r\n";
    }

    /** A message of about {@code megabytes} MB of text lines, with {@code last} as its last line. */
    private static String large(String subject, int megabytes, String last) {
        return message(subject, "All work and no play makes Jack a dull boy. 0123456789 abcdefghijklmnopqrstuvwxyz\r\n"
                .repeat(megabytes * 12_500) + last);
    }

    /** The reply to the end of DATA, without Postern's enhanced status code. */
    private static String dataReply(ServerProcess server, String message) throws Exception {
        return ClientScript.comparable(ClientScript.replyToMessage(server.port, message));
    }

    /** The X-Virus fields of the delivered message with this subject, in order. */
    private static List<String> virusFields(ServerProcess server, String subject) throws Exception {
        String maildir = server == qpsmtpd ? "maildir" : "data/maildir";
        for (Path file : server.delivered(maildir)) {
            String delivered = Files.readString(file, StandardCharsets.ISO_8859_1);
            String header = delivered.substring(0, delivered.indexOf("\n\n") + 1);
            if (header.contains("Subject: " + subject + "\n")) {
                return header.lines().filter(line -> line.startsWith("X-Virus")).toList();
            }
        }
        throw new AssertionError("no message with subject " + subject + " in " + server.base.resolve(maildir));
    }

    @Test
    public void healthShowsClamdAnsweringPingOverTheSocketAndTcp() throws Exception {
        for (String peer : List.of("clamd " + clamd.socket, "clamd 127.0.0.1:" + clamd.port)) {
            ServerProcess server = peer.endsWith(":" + clamd.port) ? overTcp : overSocket;
            Health.Page page = Health.await(server, peer, answer -> answer.body().contains("Postern peer: " + peer));
            assertEquals(page.body(), 1, page.lines("OK Postern peer: " + peer + ": " + peer + " answered: PONG"));
        }
    }

    @Test
    public void swaksSendsACleanMessageThatIsAcceptedWithTheFieldsQpsmtpdWrites() throws Exception {
        List<String> fields = List.of("X-Virus-Checked: by " + clamd.engine() + " on localhost", "X-Virus-Found: No");
        for (ServerProcess server : List.of(qpsmtpd, overSocket, overTcp)) {
            String output = DistributionIT.run(0, "swaks", "--server", "127.0.0.1:" + server.port, "--from", "a@example.org",
                    "--to", "b@localhost", "--header", "Subject: clean " + server.port, "--body", "Nothing to see here.");
            assertTrue(output, output.contains("<-  250 "));
            assertEquals(fields, virusFields(server, "clean " + server.port));
        }
    }

    @Test
    public void eicarIsRefusedWithTheSignaturesNameAsByQpsmtpd() throws Exception {
        String eicar = message("eicar", "Please scan this:\r\n" + Clamd.EICAR);
        String refusal = "552 Virus found: " + Clamd.SIGNATURE;
        assertEquals(refusal, dataReply(qpsmtpd, eicar));
        assertEquals(refusal, dataReply(overSocket, eicar));
        // swaks exits with 26 when the server refuses the message at the end of DATA
        String output = DistributionIT.run(26, "swaks", "--server", "127.0.0.1:" + overTcp.port, "--from", "a@example.org",
                "--to", "b@localhost", "--body", Clamd.EICAR);
        assertTrue(output, output.contains("<** 552 5.7.1 Virus found: " + Clamd.SIGNATURE));
        assertTrue(overSocket.log(), overSocket.log().contains("fail, found virus " + Clamd.SIGNATURE));
    }

    @Test
    public void overTcpQpsmtpdsPluginCannotScanWithThisClamdAndPostern() throws Exception {
        // ClamAV::Client sends the message with STREAM over TCP, a command clamd 1.x no longer knows
        String eicar = message("eicar over tcp", Clamd.EICAR);
        assertTrue(dataReply(qpsmtpdOverTcp, eicar).startsWith("250 "));
        assertTrue(qpsmtpdOverTcp.log(), qpsmtpdOverTcp.log().contains("Invalid server response to STREAM command"));
        assertEquals("552 Virus found: " + Clamd.SIGNATURE, dataReply(overTcp, eicar));
    }

    @Test
    public void multiMegabyteMessagesAreStreamedWhole() throws Exception {
        // EICAR on the last line of 8 MB: found only if clamd got all of it
        for (ServerProcess server : List.of(overSocket, overTcp)) {
            assertEquals("552 Virus found: " + Clamd.SIGNATURE, dataReply(server, large("big eicar", 8, Clamd.EICAR)));
            assertEquals("250 Queued", dataReply(server, large("big clean " + server.port, 8, "The end.")).replaceFirst(" as .*", ""));
            assertEquals(List.of("X-Virus-Checked: by " + clamd.engine() + " on localhost", "X-Virus-Found: No"),
                    virusFields(server, "big clean " + server.port));
        }
    }

    @Test
    public void overClamdsStreamMaxLengthAMessagePassesUnscanned() throws Exception {
        // 12 MB, over clamd's 10 MB: clamd stops reading, replies that the limit is exceeded and closes the connection
        assertTrue(dataReply(overTcp, large("too big for clamd", 12, Clamd.EICAR)).startsWith("250 "));
        assertEquals(List.of(), virusFields(overTcp, "too big for clamd"));
        assertTrue(overTcp.log(), overTcp.log().contains("skip, over clamd's StreamMaxLength"));
    }

    @Test
    public void withClamdStoppedAMessageIsDeferredOrPassesMarkedByDeferOnError() throws Exception {
        clamd.stop();
        try {
            assertEquals("451 Unable to scan for viruses", dataReply(overTcp, message("down", "Hello.")));
            assertTrue(dataReply(overSocket, message("down socket", "Hello.")).startsWith("250 "));
            assertEquals(List.of("X-Virus-Details: not scanned, clamd failed", "X-Virus-Found: Unknown"),
                    virusFields(overSocket, "down socket"));
            // qpsmtpd's plugin, without defer_on_error, lets the message through unmarked
            assertTrue(dataReply(qpsmtpd, message("down qpsmtpd", "Hello.")).startsWith("250 "));
            assertEquals(List.of(), virusFields(qpsmtpd, "down qpsmtpd"));
        } finally {
            clamd.restart();
        }
        assertTrue(overTcp.log(), overTcp.log().contains("scan failed, clamd at 127.0.0.1:" + clamd.port + ": Connection refused"));
    }
}
