package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.Test;

/**
 * Stopping the server as an administrator does (SIGTERM to bin/postern): it stops accepting at once, lets open
 * sessions finish within shutdown.grace, then ends those still open with 421 4.3.2; a message not finished by then
 * is not delivered and leaves no spool file; after a restart the delivered message is there once.
 */
public class ShutdownIT {
    private static final String BODY_LINE = "x".repeat(998);

    @Test
    public void openSessionsFinishWithinTheGraceAndTheRestAreToldWith421() throws Exception {
        ServerProcess postern = ServerProcess.postern("shutdown", "", Map.of("shutdown.grace", "3", "spool.memory.threshold", "1024"));
        try (SmtpClient finishing = inTransaction(postern.port);
                SmtpClient idle = new SmtpClient(postern.port);
                SmtpClient tooSlow = inTransaction(postern.port)) {
            idle.reply();
            assertTrue(idle.command("EHLO idle.example").startsWith("250"));
            assertTrue(finishing.command("DATA").startsWith("354"));
            finishing.send("Subject: finished within the grace\r\n\r\n");
            assertTrue(tooSlow.command("DATA").startsWith("354"));
            tooSlow.send("Subject: never finished\r\n\r\n");
            for (int i = 0; i < 20; i++) {
                tooSlow.send(BODY_LINE + "\r\n");
            }

            postern.terminate();
            awaitRefused(postern.port);

            // within the grace the session goes on as usual and its message is made durable
            finishing.send(BODY_LINE + "\r\n");
            assertTrue(finishing.command(".").startsWith("250 2.0.0 Queued"));
            assertTrue(finishing.command("QUIT").startsWith("221"));

            // after it, the idle client is told, and so is the one still sending its message
            idle.setTimeoutMillis(10_000);
            assertEquals("421 4.3.2 localhost Service shutting down, closing connection", idle.reply());
            assertTrue(idle.closedByServerWithin(2000));
            tooSlow.setTimeoutMillis(10_000);
            assertEquals("421 4.3.2 localhost Service shutting down, closing connection", tooSlow.reply());
            assertTrue(postern.exitedWithin(15_000));
        }
        Path spool = postern.base.resolve("data/spool");
        try (Stream<Path> left = Files.list(spool)) {
            assertEquals("no spool file left in " + spool, List.of(), left.toList());
        }
        ServerProcess restarted = postern.restarted();
        try {
            List<Path> delivered = restarted.delivered("data/maildir");
            assertEquals(1, delivered.size());
            assertTrue(Files.readString(delivered.get(0)).contains("Subject: finished within the grace"));
        } finally {
            restarted.close();
        }
    }

    private static SmtpClient inTransaction(int port) throws IOException {
        SmtpClient client = new SmtpClient(port);
        client.reply();
        client.command("EHLO client.example");
        assertTrue(client.command("MAIL FROM:<a@example.org>").startsWith("250"));
        assertTrue(client.command("RCPT TO:<postmaster@localhost>").startsWith("250"));
        return client;
    }

    /** The server stops accepting as soon as it is told to stop: a new client cannot connect within a second. */
    private static void awaitRefused(int port) throws Exception {
        long deadline = System.currentTimeMillis() + 1000;
        while (System.currentTimeMillis() < deadline) {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                Thread.sleep(20);
            } catch (ConnectException refused) {
                return;
            }
        }
        throw new AssertionError("still accepting connections a second after SIGTERM");
    }
}
