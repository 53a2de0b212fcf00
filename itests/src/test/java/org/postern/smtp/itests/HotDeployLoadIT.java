package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;

/**
 * 50 clients send mail without pause while the badmailfrom plugin bundle is replaced 20 times. Every
 * transaction must end as the plugins in place at that moment decide (250 for a clean sender; 550 or 250
 * for a listed one, depending on whether the plugin was there): no dropped connection, no error reply.
 */
public class HotDeployLoadIT {
    private static final Path PLUGIN_JAR = Path.of(System.getProperty("postern.bundles"), "plugin-badmailfrom", "target",
            "plugin-badmailfrom-" + System.getProperty("postern.version") + ".jar");
    private static final int CLIENTS = 50;
    private static final int UPDATES = 20;

    @Test
    public void noTransactionFailsWhilePluginsAreUpdated() throws Exception {
        try (ServerProcess postern = ServerProcess.postern("hot-load")) {
            Path deploy = postern.base.resolve("deploy");
            Files.writeString(postern.base.resolve("etc/org.postern.smtp.plugin.badmailfrom-load.cfg"), "entries = @spam.example\n");
            install(deploy, 0);
            awaitLogCount(postern, "plugin badmailfrom:load at order", 1);

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger accepted = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            ConcurrentMap<String, Integer> failures = new ConcurrentHashMap<>();
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            for (int i = 0; i < CLIENTS; i++) {
                boolean listed = i % 5 == 0;
                clients.execute(() -> {
                    while (running.get()) {
                        try {
                            String outcome = transaction(postern.port, listed ? "x@spam.example" : "a@example.org");
                            if (outcome.equals("250")) {
                                accepted.incrementAndGet();
                            } else if (outcome.equals("550") && listed) {
                                refused.incrementAndGet();
                            } else {
                                failures.merge(outcome, 1, Integer::sum);
                            }
                        } catch (IOException e) {
                            failures.merge(e.toString(), 1, Integer::sum);
                        }
                    }
                });
            }
            for (int update = 1; update <= UPDATES; update++) {
                install(deploy, update);
                awaitLogCount(postern, "plugin badmailfrom:load at order", update + 1);
            }
            running.set(false);
            clients.shutdown();
            assertTrue(clients.awaitTermination(60, TimeUnit.SECONDS));
            System.out.printf("hot deploy under load: %d clients, %d updates, %d accepted, %d refused as listed, failures %s%n",
                    CLIENTS, UPDATES, accepted.get(), refused.get(), failures);
            assertEquals("failed transactions", java.util.Map.of(), failures);
            assertTrue(refused.get() > 0);
            assertTrue(accepted.get() > 0);
            assertEquals(List.of(), spoolFiles(postern));
        }
    }

    /** One whole transaction on its own connection; the deciding reply code, or the first unexpected reply. */
    private static String transaction(int port, String sender) throws IOException {
        try (SmtpClient client = new SmtpClient(port)) {
            String greeting = client.reply();
            if (greeting == null || !greeting.startsWith("220")) {
                return "greeting " + greeting;
            }
            client.command("EHLO load.example");
            String mail = client.command("MAIL FROM:<" + sender + ">");
            if (mail.startsWith("550")) {
                client.command("QUIT");
                return "550";
            }
            String rcpt = client.command("RCPT TO:<postmaster@localhost>");
            String data = client.command("DATA");
            String queued = client.command("Subject: load\r\n\r\nbody\r\n.");
            String quit = client.command("QUIT");
            if (!mail.startsWith("250") || !rcpt.startsWith("250") || !data.startsWith("354") || !quit.startsWith("221")) {
                return "unexpected " + mail + " / " + rcpt + " / " + data + " / " + quit;
            }
            return queued.substring(0, 3);
        }
    }

    private static void install(Path deploy, int generation) throws IOException {
        Path temporary = deploy.resolve(".badmailfrom.jar.tmp");
        Files.copy(PLUGIN_JAR, temporary, StandardCopyOption.REPLACE_EXISTING);
        temporary.toFile().setLastModified(System.currentTimeMillis() + generation * 2000L);
        Files.move(temporary, deploy.resolve("badmailfrom.jar"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void awaitLogCount(ServerProcess server, String needle, int count) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (occurrences(Files.readString(server.base.resolve("server.log")), needle) < count) {
            assertTrue("'" + needle + "' not logged " + count + " times", System.currentTimeMillis() < deadline);
            Thread.sleep(50);
        }
    }

    private static int occurrences(String text, String needle) {
        int count = 0;
        for (int at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
            count++;
        }
        return count;
    }

    private static List<Path> spoolFiles(ServerProcess server) throws IOException {
        Path spool = server.base.resolve("data/spool");
        if (!Files.isDirectory(spool)) {
            return List.of();
        }
        try (var files = Files.list(spool)) {
            return files.toList();
        }
    }
}
