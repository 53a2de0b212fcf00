package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.Test;

/**
 * Memory per session stays small whatever the client sends: the distribution under -Xmx256m holds 200
 * sessions at once, each in the middle of the largest header it may send, or of a mebibyte of the smallest
 * header lines, and answers every one of them.
 */
public class MemoryIT {
    private static final int SESSIONS = 200;
    /** The default max.header.size, and what one "X-A: b" line counts toward it (its octets, CRLF, overhead). */
    private static final int MAX_HEADER = 102_400;
    private static final int TINY_LINE_COST = "X-A: b".length() + 2 + 64;

    @Test
    public void twoHundredSessionsWithMaximalHeadersFitIn256Megabytes() throws Exception {
        try (ServerProcess postern = ServerProcess.postern("memory", "-Xmx256m", Map.of("max.connections.per.ip", "500"))) {
            CyclicBarrier allHeadersSent = new CyclicBarrier(SESSIONS);
            ExecutorService clients = Executors.newFixedThreadPool(SESSIONS);
            List<Future<String>> replies = new ArrayList<>();
            try {
                for (int i = 0; i < SESSIONS; i++) {
                    boolean oversized = i % 2 == 1;
                    replies.add(clients.submit(() -> {
                        try (SmtpClient client = new SmtpClient(postern.port)) {
                            client.setTimeoutMillis(120_000);
                            client.reply();
                            client.command("EHLO client.example");
                            client.command("MAIL FROM:<a@example.org>");
                            client.command("RCPT TO:<postmaster@localhost>");
                            client.command("DATA");
                            // oversized: a mebibyte of the smallest lines, which the old default limit let in
                            int lines = oversized ? (1 << 20) / "X-A: b\r\n".length() : (MAX_HEADER - 100) / TINY_LINE_COST;
                            StringBuilder header = new StringBuilder();
                            for (int line = 0; line < lines; line++) {
                                header.append("X-A: b\r\n");
                                if (header.length() > 64 * 1024) {
                                    client.send(header.toString());
                                    header.setLength(0);
                                }
                            }
                            client.send(header.toString());
                            allHeadersSent.await(120, TimeUnit.SECONDS);
                            return client.command("\r\nbody\r\n.");
                        }
                    }));
                }
                int queued = 0;
                for (int i = 0; i < SESSIONS; i++) {
                    String reply = replies.get(i).get(180, TimeUnit.SECONDS);
                    if (i % 2 == 1) {
                        assertEquals("552 5.3.4 Message header too large", reply);
                    } else {
                        assertTrue(reply, reply.startsWith("250 2.0.0 Queued"));
                        queued++;
                    }
                }
                assertEquals(SESSIONS / 2, queued);
            } finally {
                clients.shutdownNow();
            }
            try (SmtpClient client = new SmtpClient(postern.port)) {
                assertTrue(client.reply().startsWith("220"));
                assertEquals("250 2.0.0 OK", client.command("NOOP"));
            }
            assertTrue(postern.log(), !postern.log().contains("OutOfMemoryError"));
        }
    }
}
