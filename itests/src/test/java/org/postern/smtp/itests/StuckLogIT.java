package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * A log that cannot be written does not stop mail. The launcher's log goes to standard output; when whatever reads
 * it stops reading (a stuck journald, a full pipe), a server that wrote its lines itself would block in the middle
 * of a command. Logback's asynchronous appender takes the lines off the connection threads and, once its queue is
 * full, drops them instead of waiting.
 */
public class StuckLogIT {
    private static final int CLIENTS = 10;
    private static final int MESSAGES_EACH = 100;
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();

    @Test
    public void mailKeepsFlowingWhileNobodyReadsTheLog() throws Exception {
        ServerProcess postern = SERVERS.add(ServerProcess.posternWithAStuckLog("stuck-log"));
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<Future<Integer>> sent = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                // each message writes lines of its own (the transaction line, rcpt_ok's): 64 KiB of pipe is full long before the end
                sent.add(clients.submit(() -> {
                    int accepted = 0;
                    for (int m = 0; m < MESSAGES_EACH; m++) {
                        try (SmtpClient client = new SmtpClient(postern.port)) {
                            client.setTimeoutMillis(10_000);
                            client.reply();
                            client.command("HELO client.example");
                            client.command("MAIL FROM:<sender@example.org>");
                            client.command("RCPT TO:<someone@localhost>");
                            client.command("DATA");
                            if (client.command("Subject: " + m + "\r\n\r\n" + "x".repeat(200) + "\r\n.").startsWith("250")) {
                                accepted++;
                            }
                            client.command("QUIT");
                        }
                    }
                    return accepted;
                }));
            }
            int accepted = 0;
            for (Future<Integer> client : sent) {
                accepted += client.get(120, TimeUnit.SECONDS);
            }
            assertEquals(CLIENTS * MESSAGES_EACH, accepted);
        } finally {
            clients.shutdownNow();
        }
    }
}
