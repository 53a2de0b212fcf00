package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * quit_fortune side by side with qpsmtpd's plugin of the same name, both running Debian's /usr/games/fortune: the
 * same reply shape after HELO (the fortunes themselves are random), the usual reply after EHLO; and Postern alone
 * with the program missing, which gives the usual reply too.
 */
public class QuitFortuneReferenceIT {
    private static final String USUAL = "221 localhost closing connection. Have a wonderful day.";
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;
    private static ServerProcess posternWithoutFortune;

    @BeforeClass
    public static void startServers() throws Exception {
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(), "quit_fortune"));
        postern = SERVERS.add(ServerProcess.posternWithPlugins("quit-fortune", Map.of(), List.of("plugin-quit-fortune"))
                .awaitPlugin("quit_fortune"));
        posternWithoutFortune = SERVERS.add(ServerProcess.posternWithPlugins("quit-fortune-missing",
                        Map.of("org.postern.smtp.plugin.quit_fortune.cfg", "program = /nonexistent/fortune"),
                        List.of("plugin-quit-fortune"))
                .awaitPlugin("quit_fortune"));
    }

    @Test
    public void afterHeloQuitIsAnsweredWithAFortuneInQpsmtpdsShape() throws Exception {
        for (int session = 0; session < 3; session++) {
            assertFortune("qpsmtpd", quitAfter(qpsmtpd, "HELO client.example"));
            assertFortune("Postern", quitAfter(postern, "HELO client.example"));
        }
    }

    @Test
    public void afterEhloQuitGetsTheUsualReply() throws Exception {
        assertEquals(USUAL, quitAfter(qpsmtpd, "EHLO client.example"));
        assertEquals(USUAL, quitAfter(postern, "EHLO client.example"));
    }

    @Test
    public void withoutTheProgramQuitGetsTheUsualReply() throws Exception {
        assertEquals(USUAL, quitAfter(posternWithoutFortune, "HELO client.example"));
        assertEquals(USUAL, quitAfter(posternWithoutFortune, "HELO client.example"));
        assertTrue(posternWithoutFortune.log().contains("/nonexistent/fortune is not an executable program"));
    }

    private static String quitAfter(ServerProcess server, String greeting) throws Exception {
        List<String> replies = ClientScript.replies(server, List.of(greeting, "QUIT"));
        assertEquals(server + ": " + replies, "closed", replies.get(2));
        return replies.get(1);
    }

    /** "221-localhost closing connection.", then each line of the fortune after "  / ", the last one "221 ". */
    private static void assertFortune(String server, String reply) {
        List<String> lines = reply.lines().toList();
        assertTrue(server + ": " + reply, lines.size() >= 2);
        assertEquals(server, "221-localhost closing connection.", lines.get(0));
        for (int i = 1; i < lines.size(); i++) {
            String separator = i == lines.size() - 1 ? " " : "-";
            assertTrue(server + ": " + reply, lines.get(i).startsWith("221" + separator + "  / "));
        }
    }
}
