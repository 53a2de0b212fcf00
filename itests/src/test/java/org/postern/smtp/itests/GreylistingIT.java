package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * greylisting side by side with qpsmtpd's plugin of the same name, with a black timeout of two seconds and the
 * sender in the triplet: a new triplet is deferred with qpsmtpd's reply, a retry within the black timeout too, a
 * retry after it is accepted. Postern keeps its triplets in the store-mvstore bundle; after a restart of the server
 * on the same data folder the whitelisted triplet is still accepted, while a new one is still deferred.
 */
public class GreylistingIT {
    private static final int BLACK_TIMEOUT_SECONDS = 2;
    private static final String DEFERRED = "450 This mail is temporarily denied";
    private static final String ACCEPTED = "250 <known@example.org>, sender OK - how exciting to get mail from you!";
    /**
     * qpsmtpd 0.94's greylisting calls is_p0f_match, which its Qpsmtpd::Plugin lacks, so it dies at every MAIL and
     * defers nothing ("FATAL PLUGIN ERROR"). This supplies the method as the plugin's documentation describes it:
     * without a p0f option every connection is greylisted.
     */
    static final String P0F_SHIM = String.join("\n",
            "sub Qpsmtpd::Plugin::greylisting::is_p0f_match {",
            "    my $self = shift;",
            "    return 1 if !$self->{_args}{p0f};",
            "    return $self->p0f_match();",
            "}",
            "sub register { }",
            "");
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startServers() throws Exception {
        Path database = Files.createTempDirectory("greylisting-db");
        // qpsmtpd runs as its own user
        database.toFile().setWritable(true, false);
        database.toFile().setExecutable(true, false);
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpd(List.of("localhost"), Map.of("p0f_shim", P0F_SHIM), "p0f_shim",
                "greylisting black_timeout " + BLACK_TIMEOUT_SECONDS + " grey_timeout 60 sender 1 db_dir " + database));
        postern = SERVERS.add(ServerProcess.posternWithPlugins("greylisting",
                        Map.of("org.postern.smtp.plugin.greylisting.cfg",
                                "black_timeout = " + BLACK_TIMEOUT_SECONDS + "\ngrey_timeout = 60\nsender = 1\n"),
                        List.of("store-mvstore", "plugin-greylisting"))
                .awaitPlugin("greylisting"));
    }

    private static List<String> attempt(ServerProcess server, String sender) throws Exception {
        return ClientScript.replies(server, List.of("HELO client.example", "MAIL FROM:<" + sender + ">",
                "RCPT TO:<postmaster@localhost>", "DATA", "Subject: greylisting\r\n\r\nHello.\r\n.", "QUIT"));
    }

    @Test
    public void aTripletIsDeferredUntilTheBlackTimeoutThenAcceptedAlsoAfterARestart() throws Exception {
        long firstAttempt = System.currentTimeMillis();
        List<String> reference = attempt(qpsmtpd, "known@example.org");
        assertEquals(DEFERRED, reference.get(1));
        assertEquals(reference.subList(0, 2), attempt(postern, "known@example.org").subList(0, 2));

        assertEquals(DEFERRED, attempt(qpsmtpd, "known@example.org").get(1));
        assertEquals(DEFERRED, attempt(postern, "known@example.org").get(1));

        // the black timeout is a span of time: nothing to poll for
        Thread.sleep(Math.max(0, firstAttempt + BLACK_TIMEOUT_SECONDS * 1000 + 500 - System.currentTimeMillis()));
        List<String> accepted = attempt(qpsmtpd, "known@example.org");
        assertEquals(ACCEPTED, accepted.get(1));
        assertTrue(accepted.toString(), accepted.get(4).startsWith("250 "));
        List<String> ours = attempt(postern, "known@example.org");
        assertEquals(accepted.subList(1, 4), ours.subList(1, 4));
        assertTrue(ours.toString(), ours.get(4).startsWith("250 "));

        postern = SERVERS.add(postern.restarted().awaitPlugin("greylisting"));
        assertEquals(ACCEPTED, attempt(postern, "known@example.org").get(1));
        assertTrue(postern.log(), postern.log().contains("pass: white, 2 deliveries"));
        assertEquals(DEFERRED, attempt(postern, "new@example.org").get(1));
        assertTrue(Files.isRegularFile(postern.base.resolve("data/state.mv.db")));
    }
}
