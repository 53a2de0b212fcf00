package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * greylisting's {@code p0f} option with ident/p0f in the distribution, against a real p0f 3 on the loopback interface
 * ({@link P0f}, as root), side by side with qpsmtpd 0.94's greylisting and ident/p0f on the same p0f. The
 * option selects whom to greylist: p0f fingerprints the test's clients as Linux, so with {@code p0f genre,linux} a
 * client is deferred, with {@code p0f genre,windows} it is not, by both servers.
 */
public class GreylistingP0fIT {
    private static final String DEFERRED = "450 This mail is temporarily denied";
    private static final String ACCEPTED = "250 <a@example.org>, sender OK - how exciting to get mail from you!";

    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static P0f p0f;
    private static ServerProcess posternForLinux;
    private static ServerProcess posternForWindows;
    private static ServerProcess qpsmtpdForLinux;
    private static ServerProcess qpsmtpdForWindows;

    @BeforeClass
    public static void startP0fAndServers() throws Exception {
        p0f = P0f.start();
        posternForLinux = postern("linux");
        posternForWindows = postern("windows");
        qpsmtpdForLinux = qpsmtpd("linux");
        qpsmtpdForWindows = qpsmtpd("windows");
    }

    @AfterClass
    public static void stopP0f() throws InterruptedException {
        if (p0f != null) {
            p0f.close();
        }
    }

    private static ServerProcess postern(String genre) throws Exception {
        return SERVERS.add(ServerProcess.posternWithPlugins("greylisting-p0f-" + genre, Map.of(
                        "org.postern.smtp.plugin.greylisting.cfg", "p0f = genre," + genre,
                        "org.postern.smtp.plugin.ident.p0f.cfg", "p0f_socket = " + p0f.socket),
                        List.of("store-mvstore", "plugin-greylisting", "plugin-ident-p0f"))
                .awaitPlugin("greylisting").awaitPlugin("ident/p0f"));
    }

    private static ServerProcess qpsmtpd(String genre) throws Exception {
        Path greylistDb = Files.createTempDirectory("greylisting-db");
        // qpsmtpd runs as its own user
        greylistDb.toFile().setWritable(true, false);
        greylistDb.toFile().setExecutable(true, false);
        // loglevel -2 raises greylisting's INFO lines to the WARN that the test's qpsmtpd logs
        return SERVERS.add(ServerProcess.qpsmtpd(List.of("localhost"), Map.of("p0f_shim", GreylistingIT.P0F_SHIM),
                "ident/p0f " + p0f.socket, "p0f_shim", "greylisting p0f genre," + genre + " loglevel -2 db_dir " + greylistDb));
    }

    /** MAIL's reply to {@code client}, comparable with qpsmtpd's. */
    private static String mailReply(ServerProcess server, String client) throws Exception {
        try (SmtpClient smtp = new SmtpClient(server.port, client)) {
            smtp.reply();
            smtp.command("HELO client.example");
            String reply = ClientScript.comparable(smtp.command("MAIL FROM:<a@example.org>"));
            smtp.command("QUIT");
            return reply;
        }
    }

    @Test
    public void aClientIsGreylistedOnlyWhenItsFingerprintMatchesAsInQpsmtpd() throws Exception {
        List<String> replies = new ArrayList<>();
        replies.add(mailReply(posternForLinux, "127.0.0.61"));
        replies.add(mailReply(qpsmtpdForLinux, "127.0.0.62"));
        replies.add(mailReply(posternForWindows, "127.0.0.63"));
        replies.add(mailReply(qpsmtpdForWindows, "127.0.0.64"));
        for (String client : List.of("127.0.0.61", "127.0.0.62", "127.0.0.63", "127.0.0.64")) {
            String os = p0f.osOf(client);
            assertTrue(client + ": " + os, os.startsWith("Linux "));
        }
        assertEquals(List.of(DEFERRED, DEFERRED, ACCEPTED, ACCEPTED), replies);
        posternForLinux.awaitLogged("[greylisting mail]: fail: initial DENYSOFT, unknown");
        // a client without a fingerprint would not be greylisted either, with "p0f info missing" instead
        posternForWindows.awaitLogged("[greylisting mail]: skip: no p0f match");
        qpsmtpdForWindows.awaitLogged("greylisting: skip: no p0f match");
    }
}
