package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.After;
import org.junit.Test;

/**
 * Plugins changed at runtime in the standalone distribution, with sessions open throughout: a plugin bundle
 * dropped into deploy/, its .cfg edited in etc/, a second instance from a factory configuration, a new order,
 * the jar replaced, then deleted. Every session stays open and finishes a transaction at the end.
 */
public class HotDeployIT {
    private static final Path PLUGIN_JAR = Path.of(System.getProperty("postern.bundles"), "plugin-badmailfrom", "target",
            "plugin-badmailfrom-" + System.getProperty("postern.version") + ".jar");
    private static final long DEADLINE_MILLIS = 15_000;

    private final List<SmtpClient> sessions = new ArrayList<>();
    private int turn;

    @After
    public void closeSessions() throws IOException {
        for (SmtpClient session : sessions) {
            session.close();
        }
    }

    /** The next open session's answer to MAIL FROM (then RSET, so the session is ready for the next check). */
    private String mailFrom(String sender) throws IOException {
        SmtpClient session = sessions.get(turn++ % sessions.size());
        String reply = session.command("MAIL FROM:<" + sender + ">");
        assertEquals("250 2.0.0 OK", session.command("RSET"));
        return reply;
    }

    /** Polls open sessions until MAIL FROM the sender gets a reply starting so; returns how long that took. */
    private long awaitReply(String sender, String expected) throws Exception {
        long start = System.nanoTime();
        String reply = null;
        while (System.nanoTime() - start < DEADLINE_MILLIS * 1_000_000) {
            reply = mailFrom(sender);
            if (reply.startsWith(expected)) {
                return (System.nanoTime() - start) / 1_000_000;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("MAIL FROM:<" + sender + "> still answered '" + reply + "', expected '" + expected + "'");
    }

    /** Writes a file the way an editor saves it: a temporary file renamed over the old one. */
    private static void save(Path file, String text) throws IOException {
        Path temporary = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(temporary, text);
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    public void pluginsAreDeployedReconfiguredReorderedUpdatedAndRemovedWithSessionsOpen() throws Exception {
        try (ServerProcess postern = ServerProcess.postern("hot-deploy")) {
            Path etc = postern.base.resolve("etc");
            Path deploy = postern.base.resolve("deploy");
            for (int i = 0; i < 8; i++) {
                SmtpClient session = new SmtpClient(postern.port);
                sessions.add(session);
                assertTrue(session.reply().startsWith("220"));
                assertTrue(session.command("EHLO client" + i + ".example").startsWith("250"));
            }
            Path first = etc.resolve("org.postern.smtp.plugin.badmailfrom-first.cfg");
            save(first, "entries = @spam.example First says no\n");
            assertTrue(mailFrom("x@spam.example").startsWith("250"));

            Files.copy(PLUGIN_JAR, deploy.resolve(".badmailfrom.jar.tmp"));
            Files.move(deploy.resolve(".badmailfrom.jar.tmp"), deploy.resolve("badmailfrom.jar"), StandardCopyOption.ATOMIC_MOVE);
            long deployed = awaitReply("x@spam.example", "550 5.7.1 First says no");

            save(first, "entries = @spam.example First says no, @junk.example\n");
            long edited = awaitReply("y@junk.example", "550 5.7.1 Your envelope sender is in my badmailfrom list");

            save(etc.resolve("org.postern.smtp.plugin.badmailfrom-second.cfg"),
                    "entries = @spam.example Second says no\npostern.hook.order = 100\n");
            long secondInstance = awaitReply("x@spam.example", "550 5.7.1 Second says no");

            save(first, "entries = @spam.example First says no, @junk.example\npostern.hook.order = 50\n");
            long reordered = awaitReply("x@spam.example", "550 5.7.1 First says no");

            String log = Files.readString(postern.base.resolve("server.log"));
            long removalsBefore = removals(log);
            Files.copy(PLUGIN_JAR, deploy.resolve(".badmailfrom.jar.tmp"), StandardCopyOption.REPLACE_EXISTING);
            deploy.resolve(".badmailfrom.jar.tmp").toFile().setLastModified(System.currentTimeMillis() + 5000);
            Files.move(deploy.resolve(".badmailfrom.jar.tmp"), deploy.resolve("badmailfrom.jar"),
                    StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            long start = System.nanoTime();
            while (removals(Files.readString(postern.base.resolve("server.log"))) == removalsBefore) {
                assertTrue("the replaced jar was not updated", System.nanoTime() - start < DEADLINE_MILLIS * 1_000_000);
                Thread.sleep(100);
            }
            awaitReply("x@spam.example", "550 5.7.1 First says no");

            Files.delete(deploy.resolve("badmailfrom.jar"));
            long removed = awaitReply("x@spam.example", "250");

            for (SmtpClient session : sessions) {
                assertTrue(session.command("MAIL FROM:<a@example.org>").startsWith("250"));
                assertTrue(session.command("RCPT TO:<postmaster@localhost>").startsWith("250"));
                assertTrue(session.command("DATA").startsWith("354"));
                assertTrue(session.command("Subject: survived\r\n\r\nbody\r\n.").startsWith("250 2.0.0 Queued"));
                assertTrue(session.command("QUIT").startsWith("221"));
            }
            assertEquals(sessions.size(), postern.delivered("data/maildir").size());
            System.out.printf("hot deploy: jar seen %d ms, .cfg edit %d ms, factory instance %d ms, reorder %d ms, removal %d ms%n",
                    deployed, edited, secondInstance, reordered, removed);
        }
    }

    @Test
    public void theTemplatePluginBuiltAsItsOwnProjectIsHotDeployed() throws Exception {
        Path template = Path.of(System.getProperty("postern.bundles"), "..", "templates", "plugin", "target",
                "postern-plugin-maxrcpt-1.0.0-SNAPSHOT.jar");
        try (ServerProcess postern = ServerProcess.postern("template")) {
            SmtpClient session = new SmtpClient(postern.port);
            sessions.add(session);
            session.reply();
            session.command("EHLO client.example");
            save(postern.base.resolve("etc/com.example.postern.maxrcpt.cfg"), "max.rcpt = 1\n");
            Files.copy(template, postern.base.resolve("deploy/maxrcpt.jar"));
            long start = System.nanoTime();
            while (true) {
                assertTrue(session.command("MAIL FROM:<a@example.org>").startsWith("250"));
                assertTrue(session.command("RCPT TO:<postmaster@localhost>").startsWith("250"));
                String second = session.command("RCPT TO:<postmaster@localhost>");
                assertEquals("250 2.0.0 OK", session.command("RSET"));
                if (second.equals("452 4.5.3 Too many recipients, send the rest later")) {
                    break;
                }
                assertTrue("the template plugin never took effect: " + second, System.nanoTime() - start < DEADLINE_MILLIS * 1_000_000);
                Thread.sleep(100);
            }
        }
    }

    /** Removals of any badmailfrom instance: factory instances are named badmailfrom:first, badmailfrom:second. */
    private static long removals(String log) {
        return java.util.regex.Pattern.compile("plugin badmailfrom(:\\S+)? removed").matcher(log).results().count();
    }
}
