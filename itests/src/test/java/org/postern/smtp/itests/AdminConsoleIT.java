package org.postern.smtp.itests;

import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.Test;

/** The standalone launcher's admin console (bin/postern --console) and the postern: commands in it. */
public class AdminConsoleIT {

    private static String awaitOutput(ServerProcess server, String expected) throws Exception {
        long deadline = System.currentTimeMillis() + 15_000;
        String log = server.log();
        while (!log.contains(expected)) {
            assertTrue("the console never printed '" + expected + "':\n" + log, System.currentTimeMillis() < deadline);
            Thread.sleep(100);
            log = server.log();
        }
        return log;
    }

    @Test
    public void listenersChainsSessionsAndCountersAreShownInTheConsole() throws Exception {
        try (ServerProcess postern = ServerProcess.postern("console", "--console");
                SmtpClient idle = new SmtpClient(postern.port)) {
            idle.reply();
            idle.command("HELO watcher.example");
            try (SmtpClient client = new SmtpClient(postern.port)) {
                client.reply();
                client.command("EHLO client.example");
                client.command("MAIL FROM:<a@example.org>");
                client.command("RCPT TO:<postmaster@localhost>");
                client.command("DATA");
                assertTrue(client.command("Subject: counted\r\n\r\nbody\r\n.").startsWith("250"));
            }
            postern.type("postern:listeners");
            awaitOutput(postern, "listening on /127.0.0.1:" + postern.port + " (default)");
            postern.type("postern:chains");
            awaitOutput(postern, "listener default (/127.0.0.1:" + postern.port + ")\n");
            awaitOutput(postern, "rcpt\n     900  rcpt_ok                  org.postern.plugin-rcpt-ok 0.1.0.SNAPSHOT");
            awaitOutput(postern, "queue\n    1000  queue/maildir");
            postern.type("postern:sessions");
            awaitOutput(postern, "HELO watcher.example");
            postern.type("postern:counters");
            awaitOutput(postern, "         1  messages queued");
            assertTrue(awaitOutput(postern, "connections accepted").matches("(?s).*\\s[2-9]\\d*  connections accepted.*"));
            postern.type("hc:exec postern");
            awaitOutput(postern, "Postern listeners");
            awaitOutput(postern, "Postern spool");
        }
    }

    /**
     * queue/spool's commands: a message waiting for a relayhost that does not answer is listed with its last reply,
     * tried again by postern:flush and taken out of the queue by postern:delete.
     */
    @Test
    public void queuedMessagesAreListedFlushedAndDeletedInTheConsole() throws Exception {
        int closedPort = ServerProcess.freePort();
        try (ServerProcess postern = ServerProcess.postern("console-spool", "--console")) {
            Files.writeString(postern.base.resolve("etc/org.postern.smtp.plugin.queue.spool.cfg"),
                    "relayhost = 127.0.0.1:" + closedPort + "\nretry.initial = 3600\n");
            String version = System.getProperty("postern.version");
            Files.copy(Path.of(System.getProperty("postern.bundles"), "plugin-queue-spool", "target", "plugin-queue-spool-" + version + ".jar"),
                    postern.base.resolve("deploy/plugin-queue-spool.jar"));
            postern.awaitPlugin("queue/spool");
            String reply = MessageSession.finalReply(postern.port, List.of("postmaster@localhost"), MessageSession.message("held", "Hi.\r\n"));
            Matcher queued = Pattern.compile("250 2\\.0\\.0 Queued as (\\S+)").matcher(reply);
            assertTrue(reply, queued.matches());
            String id = queued.group(1);
            awaitOutput(postern, "queue id " + id + ": <postmaster@localhost> deferred: 451 4.4.1");

            postern.type("postern:queue");
            awaitOutput(postern, id + "  age ");
            awaitOutput(postern, "  <postmaster@localhost>  451 4.4.1 Cannot connect to 127.0.0.1:" + closedPort);
            postern.type("postern:flush " + id);
            awaitOutput(postern, id + " flushed.");
            postern.type("postern:delete " + id);
            awaitOutput(postern, id + " deleted.");
            postern.type("postern:queue");
            awaitOutput(postern, "The queue is empty.");
        }
    }
}
