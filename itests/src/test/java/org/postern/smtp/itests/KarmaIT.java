package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * karma side by side with qpsmtpd's plugin of the same name, with {@code reject connect}, badrcptto lowering the
 * session's karma by 2 for each refused recipient. Each client connects from an address of its own in 127.0.0.0/8,
 * as karma keeps its history per address. A client refused twice (karma -4, naughty) is refused at its next connect
 * with qpsmtpd's penalty box reply; an unknown client gets one recipient per message. On Postern alone (it keeps the
 * history in the store-mvstore bundle): a whitelisted client's nice session raises its history, and after a restart
 * on the same data folder, without the whitelist, that client may give two recipients while the naughty one is still
 * refused.
 */
public class KarmaIT {
    private static final String PENALTY_BOX = "550 You were naughty. You cannot connect for 1.00 more days.";
    private static final String ONE_RECIPIENT = "550 too many recipients for karma 0 (h: 0)";
    /**
     * qpsmtpd 0.94's karma reads {@code $self->{args}{db_dir}} where its arguments are in {@code _args}, so it ignores
     * db_dir and keeps its database in the server's working directory. This plugin, loaded after it from a plugin
     * folder of the test's own, puts the database in a folder of the test's own.
     */
    private static final String DB_DIR_SHIM = String.join("\n",
            "sub Qpsmtpd::Plugin::karma::get_db_location { return '%s/karma.dbm' }",
            "sub register { }",
            "");
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startServers() throws Exception {
        Path database = Files.createTempDirectory("karma-db");
        Path shims = Files.createTempDirectory("karma-shims");
        Files.writeString(shims.resolve("karma_db_dir"), String.format(DB_DIR_SHIM, database));
        // qpsmtpd runs as its own user
        for (Path folder : List.of(database, shims)) {
            folder.toFile().setWritable(true, false);
            folder.toFile().setExecutable(true, false);
            folder.toFile().setReadable(true, false);
        }
        shims.resolve("karma_db_dir").toFile().setReadable(true, false);
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"),
                Map.of("badrcptto", "@spam.example\n", "plugin_dirs", shims + "\n/usr/share/qpsmtpd/plugins\n"),
                "badrcptto", "karma reject connect", "karma_db_dir"));
        postern = SERVERS.add(ServerProcess.posternWithPlugins("karma",
                        Map.of("org.postern.smtp.config.cfg", "badrcptto = @spam.example\nwhitelisthosts = 127.0.0.3",
                                "org.postern.smtp.plugin.karma.cfg", "reject = connect"),
                        List.of("store-mvstore", "plugin-karma", "plugin-badrcptto", "plugin-whitelist"), "--console")
                .awaitPlugin("karma").awaitPlugin("badrcptto").awaitPlugin("whitelist"));
    }

    /** One session from {@code client}; its replies without enhanced status codes, "closed" once the server closed. */
    private static List<String> session(ServerProcess server, String client, String... lines) throws Exception {
        List<String> replies = new ArrayList<>();
        try (SmtpClient smtp = new SmtpClient(server.port, client)) {
            replies.add(comparable(smtp.reply()));
            for (String line : lines) {
                if (replies.get(replies.size() - 1).equals("closed")) {
                    break;
                }
                replies.add(comparable(smtp.command(line)));
            }
        }
        return replies;
    }

    private static String comparable(String reply) {
        return reply == null ? "closed" : reply.replaceAll("(?m)^(\\d{3}[ -])\\d\\.\\d{1,3}\\.\\d{1,3} ", "$1");
    }

    /** Two refused recipients: the session ends with karma -4, naughty. */
    private static List<String> naughtySession(ServerProcess server, String client) throws Exception {
        return session(server, client, "HELO client.example", "MAIL FROM:<a@example.org>",
                "RCPT TO:<one@spam.example>", "RCPT TO:<two@spam.example>", "QUIT");
    }

    /**
     * The greeting the client gets once the server has recorded its last session, which it does after the client
     * left, and "closed" or "open" after it: connects again until the greeting is no longer 220, within 10 seconds.
     */
    private static List<String> refusedReturn(ServerProcess server, String client) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (true) {
            try (SmtpClient smtp = new SmtpClient(server.port, client)) {
                String greeting = comparable(smtp.reply());
                if (!greeting.startsWith("220") || System.currentTimeMillis() > deadline) {
                    return List.of(greeting, smtp.closedByServerWithin(5000) ? "closed" : "open");
                }
                smtp.command("QUIT");
            }
            Thread.sleep(100);
        }
    }

    private static List<String> twoRecipients(ServerProcess server, String client) throws Exception {
        return session(server, client, "HELO client.example", "MAIL FROM:<a@example.org>",
                "RCPT TO:<postmaster@localhost>", "RCPT TO:<root@localhost>", "QUIT");
    }


    @Test
    public void aNaughtyClientIsRefusedAtItsNextConnectWithQpsmtpdsReply() throws Exception {
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            // badrcptto's own replies differ in their status code notation, which is badrcptto's matter, not karma's
            List<String> replies = naughtySession(server, "127.0.0.2");
            assertTrue(replies.toString(), replies.get(0).startsWith("220") && replies.get(3).startsWith("550 ")
                    && replies.get(4).startsWith("550 "));
        }

        assertEquals(List.of(PENALTY_BOX, "closed"), refusedReturn(qpsmtpd, "127.0.0.2"));
        assertEquals(List.of(PENALTY_BOX, "closed"), refusedReturn(postern, "127.0.0.2"));
    }

    @Test
    public void anUnknownClientGetsOneRecipientPerMessageAsInQpsmtpd() throws Exception {
        List<String> reference = twoRecipients(qpsmtpd, "127.0.0.4");
        assertEquals(ONE_RECIPIENT, reference.get(4));
        assertTrue(reference.get(3), reference.get(3).startsWith("250"));
        assertEquals(reference.subList(3, 5), twoRecipients(postern, "127.0.0.4").subList(3, 5));
    }

    @Test
    public void aNiceSessionRaisesTheHistoryAndTheHistorySurvivesARestart() throws Exception {
        List<String> whitelisted = twoRecipients(postern, "127.0.0.3");
        assertTrue(whitelisted.toString(), whitelisted.get(4).startsWith("250"));
        postern.awaitLogged("positive, (msg: 5, his: 0)");
        naughtySession(postern, "127.0.0.5");
        assertEquals(List.of(PENALTY_BOX, "closed"), refusedReturn(postern, "127.0.0.5"));

        Path config = postern.base.resolve("etc/org.postern.smtp.config.cfg");
        Files.writeString(config, Files.readString(config).replace("whitelisthosts = 127.0.0.3", "whitelisthosts = 192.0.2.99"));
        postern = SERVERS.add(postern.restarted().awaitPlugin("karma").awaitPlugin("badrcptto").awaitPlugin("whitelist"));

        List<String> known = twoRecipients(postern, "127.0.0.3");
        assertTrue(known.toString(), known.get(4).startsWith("250"));
        assertTrue(postern.log(), postern.log().contains("pass, no penalty (0 naughty, 1 nice, 1 connects)"));
        assertEquals(ONE_RECIPIENT, twoRecipients(postern, "127.0.0.6").get(4));
        assertEquals(List.of(PENALTY_BOX, "closed"), refusedReturn(postern, "127.0.0.5"));
        assertTrue(Files.isRegularFile(postern.base.resolve("data/state.mv.db")));
    }

    /** qpsmtpd's karma_tool as the console's karma: commands, on the history the plugin keeps. */
    @Test
    public void theConsoleSendsAnAddressToThePenaltyBoxAndLetsItOut() throws Exception {
        postern.type("karma:capture 127.0.0.71");
        postern.awaitLogged("127.0.0.71 is in the penalty box until ");
        assertEquals(List.of(PENALTY_BOX, "closed"), session(postern, "127.0.0.71", "QUIT"));
        postern.type("karma:release 127.0.0.71");
        postern.awaitLogged("127.0.0.71 is out of the penalty box.");
        List<String> released = session(postern, "127.0.0.71", "QUIT");
        assertTrue(released.toString(), released.get(0).startsWith("220 ") && released.get(1).startsWith("221 "));
        postern.type("karma:search 127.0.0.71");
        // no penalty, and the naughty session capture counted is forgotten with it (the connections are counted too,
        // the last one once its disconnect is written)
        postern.awaitLogged(" 127.0.0.71                                        0       0       ");
    }
}
