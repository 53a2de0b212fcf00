package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.After;
import org.junit.Assume;
import org.junit.Test;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.QueueHook;
import org.postern.smtp.api.QueuePostHook;
import org.postern.smtp.api.QueuePreHook;

/**
 * What a 250 after DATA promises, tested from outside on the distribution (bin/postern with rcpt_ok and
 * queue/maildir): a message answered 250 survives a kill -9 that follows at once, whole and exactly once; a
 * message cut off before its final dot (client gone, server killed) leaves nothing in the Maildir or the spool;
 * a full or read-only disk gets a 4xx, never a 250; and queue_pre, queue and queue_post run as the spec says.
 */
public class DurabilityIT {
    private static final String MAILDIR_CFG = "org.postern.smtp.plugin.queue.maildir.cfg";
    private static final String SENDER = "sender@example.org";
    private static final String RECIPIENT = "someone@localhost";
    /** What queue/maildir writes above the message: the envelope, then the core's Received and Authentication-Results. */
    private static final String TRACE = "Return-Path: <" + SENDER + ">\nDelivered-To: " + RECIPIENT + "\n";
    private static final Pattern ADDED_FIELDS = Pattern.compile("((Received|Authentication-Results):[^\n]*\n([ \t][^\n]*\n)*)+");
    private static final Pattern MESSAGE_ID = Pattern.compile("(?m)^Message-ID: <([^@>]+)@durability\\.example>$");
    /** Past spool.memory.threshold (64 KiB): the body is in a spool file before the final dot. */
    private static final int SPOOLED = 300_000;
    private static final int KILL_ROUNDS = 6;

    private ServerProcess server;
    private final List<Path> mounts = new ArrayList<>();

    @After
    public void stopServerAndUnmount() throws Exception {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            Collections.reverse(mounts);
            for (Path mount : mounts) {
                if (run("umount", mount.toString()) != 0) {
                    run("umount", "-l", mount.toString());
                }
            }
        }
    }

    // --- 1. kill -9 right after the 250 -------------------------------------------------------------------

    /**
     * Each round a client sends a message and the server's JVM gets SIGKILL the moment the 250 arrives, while two
     * other clients keep sending small and spooled messages, so the kill also finds messages in DATA, in the
     * spool and being written into the Maildir. After each restart on the same data folder, every message that
     * got a 250 is in new/ exactly once and whole; a message without a 250 may be there (the kill fell between
     * the rename and the reply) but then whole and once too; the spool holds no leftover.
     */
    @Test
    public void aMessageAnswered250SurvivesKill9() throws Exception {
        server = posternWithMaildir("durability-kill", Map.of());
        Path maildir = server.base.resolve("data/maildir");
        Map<String, Message> sent = new ConcurrentHashMap<>();
        Set<String> accepted = ConcurrentHashMap.newKeySet();
        List<String> loadFailures = new CopyOnWriteArrayList<>();
        int tmpLeftovers = 0;
        for (int round = 0; round < KILL_ROUNDS; round++) {
            Message trigger = message("kill" + round, round % 2 == 0 ? 1_500_000 : 2_000);
            sent.put(trigger.id(), trigger);
            List<Thread> load = new ArrayList<>();
            for (int c = 0; c < 2; c++) {
                String prefix = "kill" + round + "load" + c;
                int port = server.port;
                Thread sender = new Thread(() -> keepSending(port, prefix, sent, accepted, loadFailures), prefix);
                sender.start();
                load.add(sender);
            }
            try (SmtpClient client = session(server.port, "trigger.example")) {
                Thread.sleep(150);
                String reply = send(client, trigger);
                assertTrue("round " + round + ": " + reply, reply != null && reply.startsWith("250 "));
                server.kill();
            }
            accepted.add(trigger.id());
            for (Thread sender : load) {
                sender.join(30_000);
                assertFalse(sender.getName() + " still sending after the kill", sender.isAlive());
            }
            server = server.restarted().awaitPlugin("queue/maildir");
            assertDelivered(maildir, sent, accepted);
            assertEquals("spool leftovers after the restart", List.of(), files(server.base.resolve("data/spool")));
            tmpLeftovers = files(maildir.resolve("tmp")).size();
        }
        assertEquals(List.of(), loadFailures);
        System.out.printf("kill -9 after 250: %d rounds, %d messages sent, %d answered 250, %d delivered, %d partial file(s) in tmp/%n",
                KILL_ROUNDS, sent.size(), accepted.size(), files(maildir.resolve("new")).size(), tmpLeftovers);
    }

    /** Sends messages over one connection until the server goes away; records which ones got a 250. */
    private static void keepSending(int port, String prefix, Map<String, Message> sent, Set<String> accepted, List<String> failures) {
        try (SmtpClient client = session(port, prefix + ".example")) {
            for (int i = 0; ; i++) {
                Message message = message(prefix + "m" + i, i % 2 == 0 ? SPOOLED / 3 : 1_000);
                sent.put(message.id(), message);
                String reply = send(client, message);
                if (reply == null) {
                    return;
                }
                if (!reply.startsWith("250 ")) {
                    failures.add(message.id() + ": " + reply);
                    return;
                }
                accepted.add(message.id());
            }
        } catch (IOException serverGone) {
            // the kill: connect refused, connection reset, or EOF mid-command
        } catch (AssertionError unexpected) {
            failures.add(prefix + ": " + unexpected.getMessage());
        }
    }

    // --- 2. a message cut off before its final dot --------------------------------------------------------

    /**
     * A client that drops the connection mid-DATA, and a kill -9 mid-DATA: nothing is delivered, the spool
     * file goes at once (drop) or at the next start (kill), and the Maildir's tmp/ and new/ stay empty. Then a
     * kill -9 while queue/maildir writes the message into tmp/: the client has no 250, and whatever was left
     * in tmp/ is never moved into new/ (the Maildir spec lets readers delete tmp/ files after 36 hours).
     */
    @Test
    public void aMessageCutOffBeforeItsEndLeavesNothingBehind() throws Exception {
        server = posternWithMaildir("durability-cut", Map.of());
        Path maildir = server.base.resolve("data/maildir");
        Path spool = server.base.resolve("data/spool");
        String firstHalf = message("cut", 2 * SPOOLED).wire().substring(0, SPOOLED);

        try (SmtpClient client = session(server.port, "drop.example")) {
            startData(client);
            client.send(firstHalf);
            awaitFiles(spool);
        }
        long deadline = System.currentTimeMillis() + 10_000;
        while (!files(spool).isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals("spool file of a client that left", List.of(), files(spool));
        assertMaildirEmpty(maildir);

        try (SmtpClient client = session(server.port, "killed.example")) {
            startData(client);
            client.send(firstHalf);
            List<Path> cutOff = awaitFiles(spool);
            server.kill();
            assertTrue("the kill left the spool file " + cutOff, Files.exists(cutOff.get(0)));
        }
        server = server.restarted().awaitPlugin("queue/maildir");
        assertEquals("spool leftovers after the restart", List.of(), files(spool));
        assertTrue(server.log(), server.log().contains("deleted 1 spool file(s) left in " + spool));
        assertMaildirEmpty(maildir);

        Message huge = message("cutinqueue", 30_000_000);
        String reply;
        try (SmtpClient client = session(server.port, "queue.example")) {
            startData(client);
            client.send(huge.wire());
            awaitFiles(maildir.resolve("tmp"));
            server.kill();
            try {
                reply = client.reply();
            } catch (IOException reset) {
                reply = null;
            }
        }
        server = server.restarted().awaitPlugin("queue/maildir");
        Map<String, Message> sent = Map.of(huge.id(), huge);
        // a 250 the kill did not stop is kept; without one, the message may be in new/ only if it is whole
        assertDelivered(maildir, sent, reply != null && reply.startsWith("250 ") ? Set.of(huge.id()) : Set.of());
        List<Path> leftovers = files(maildir.resolve("tmp"));
        for (Path leftover : leftovers) {
            assertFalse("a complete message left in tmp/", Files.readString(leftover, StandardCharsets.ISO_8859_1).endsWith(huge.stored()));
        }
        System.out.printf("kill -9 while queue/maildir wrote %d octets: reply %s, %d file(s) in new/, %d partial file(s) left in tmp/%n",
                huge.stored().length(), reply, files(maildir.resolve("new")).size(), leftovers.size());

        Message after = message("afterkills", 2_000);
        try (SmtpClient client = session(server.port, "after.example")) {
            assertTrue(send(client, after).startsWith("250 "));
        }
        assertEquals(1, delivered(maildir).getOrDefault(after.id(), List.of()).size());
        assertEquals("spool leftovers", List.of(), files(spool));
        // up to 30 MB each, in the system's temporary folder at every run
        for (Path leftover : leftovers) {
            Files.delete(leftover);
        }
    }

    // --- 3. a full or read-only disk ----------------------------------------------------------------------

    /**
     * The Maildir and the spool folder each on a 2 MB tmpfs: filled up, then read-only. A message that cannot be
     * stored gets 451 (Maildir) or 452 (spool), never 250, and leaves no file behind; once space is back or
     * the file system writable again, the next message on the same connection gets its 250. A small message,
     * kept in memory, is not refused for a full spool.
     */
    @Test
    public void aFullOrReadOnlyDiskGets4xxNever250() throws Exception {
        Path root = Files.createTempDirectory("postern-durability-disk");
        Path maildirFs = mountTmpfs(root.resolve("maildir-fs"));
        Path spoolFs = mountTmpfs(root.resolve("spool-fs"));
        Path maildir = maildirFs.resolve("maildir");
        Path spool = spoolFs.resolve("spool");
        server = posternWithMaildir("durability-disk", Map.of(MAILDIR_CFG, "maildir = " + maildir,
                ServerProcess.SERVER_CFG, "spool.dir = " + spool));
        int count = 0;
        try (SmtpClient client = session(server.port, "disk.example")) {
            Message first = message("disk" + count++, 2_000);
            assertAccepted(client, maildir, first);

            Path filler = fill(maildirFs);
            assertRefused(client, maildir, spool, message("disk" + count++, 2_000), "451 4.3.0 ");
            Files.delete(filler);
            assertAccepted(client, maildir, message("disk" + count++, 2_000));

            filler = fill(spoolFs);
            assertAccepted(client, maildir, message("disk" + count++, 2_000));
            assertRefused(client, maildir, spool, message("disk" + count++, SPOOLED), "452 4.3.1 ");
            Files.delete(filler);
            assertAccepted(client, maildir, message("disk" + count++, SPOOLED));

            assertEquals(0, run("mount", "-o", "remount,ro", maildirFs.toString()));
            assertRefused(client, maildir, spool, message("disk" + count++, 2_000), "451 4.3.0 ");
            assertEquals(0, run("mount", "-o", "remount,rw", maildirFs.toString()));
            assertAccepted(client, maildir, message("disk" + count++, 2_000));

            assertEquals(0, run("mount", "-o", "remount,ro", spoolFs.toString()));
            assertRefused(client, maildir, spool, message("disk" + count++, SPOOLED), "452 4.3.1 ");
            assertAccepted(client, maildir, message("disk" + count++, 2_000));
            assertEquals(0, run("mount", "-o", "remount,rw", spoolFs.toString()));
            assertAccepted(client, maildir, message("disk" + count++, SPOOLED));
        }
        assertEquals(7, files(maildir.resolve("new")).size());
    }

    private void assertAccepted(SmtpClient client, Path maildir, Message message) throws IOException {
        String reply = send(client, message);
        assertTrue(message.id() + ": " + reply, reply.startsWith("250 "));
        assertEquals(message.id(), 1, delivered(maildir).getOrDefault(message.id(), List.of()).size());
    }

    private void assertRefused(SmtpClient client, Path maildir, Path spool, Message message, String expected) throws IOException {
        String reply = send(client, message);
        assertTrue(message.id() + ": expected " + expected + "but got " + reply, reply.startsWith(expected));
        assertFalse(message.id() + " delivered", delivered(maildir).containsKey(message.id()));
        assertEquals("Maildir tmp/ after " + reply, List.of(), files(maildir.resolve("tmp")));
        assertEquals("spool after " + reply, List.of(), files(spool));
    }

    /** Fills a file system: the filler file takes every free block. */
    private static Path fill(Path fileSystem) throws IOException {
        Path filler = fileSystem.resolve("filler");
        byte[] chunk = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(filler)) {
            for (int i = 0; i < 1_000; i++) {
                out.write(chunk);
            }
        } catch (IOException full) {
            return filler;
        }
        throw new AssertionError(fileSystem + " took 64 MB; is it the 2 MB tmpfs?");
    }

    private Path mountTmpfs(Path folder) throws Exception {
        Files.createDirectories(folder);
        ProcessBuilder mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", folder.toString())
                .redirectErrorStream(true);
        Process process = mount.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        Assume.assumeTrue("mount -t tmpfs is not permitted here (" + output + "): the full and read-only disk tests need root",
                process.waitFor() == 0);
        mounts.add(folder);
        return folder;
    }

    // --- 4. queue_pre, queue and queue_post ---------------------------------------------------------------

    /**
     * A probe plugin, deployed as a bundle of its own, answers queue_pre and queue as the client's EHLO name
     * asks and answers every queue_post with DENYSOFT naming it, which the core must log. queue_post runs after
     * every queue attempt, whatever its outcome (the spec: "called always after hook_queue"; qpsmtpd's
     * queue_respond runs it after OK, DENY, DENYSOFT and a plugin that died, which it skips), but not after a
     * DONE (qpsmtpd returns before it) nor when queue_pre stopped the message before any queue attempt. A 421
     * from a queue plugin closes the connection, as a 421 does at every hook (RFC 5321 3.8).
     */
    @Test
    public void queuePostRunsAfterEveryQueueAttempt() throws Exception {
        server = posternWithMaildir("durability-hooks", Map.of());
        Path jar = probeBundle(server.base);
        Files.move(jar, server.base.resolve("deploy").resolve(jar.getFileName()), StandardCopyOption.ATOMIC_MOVE);
        server.awaitPlugin("durability-probe");
        Map<String, String> expected = new LinkedHashMap<>();
        expect(expected, "ok.example", "250", true, true);
        expect(expected, "denysoft.example", "452", true, true);
        expect(expected, "deny.example", "552", true, true);
        expect(expected, "throw.example", "451", true, true);
        expect(expected, "timeout.example", "451", true, true);
        expect(expected, "done.example", "451", true, false);
        expect(expected, "pre-done.example", "451", false, false);
        expect(expected, "pre-deny.example", "552", false, false);
        expect(expected, "ok-again.example", "250", true, true);
        expect(expected, "close.example", "421 and close", true, true);
        Map<String, String> replies = new HashMap<>();
        try (SmtpClient client = new SmtpClient(server.port)) {
            client.reply();
            // a second EHLO resets the session as RSET does; the session runs each command after the last one's
            // hooks, queue_post included, so once the last case's queue_post is logged every earlier one is too
            for (String helo : expected.keySet()) {
                client.command("EHLO " + helo);
                String reply = send(client, message(helo.replace(".example", ""), 1_000));
                replies.put(helo, reply == null ? "none" : reply.substring(0, 3));
            }
            if (client.closedByServerWithin(3_000)) {
                replies.merge("close.example", " and close", String::concat);
            }
        }
        server.awaitLogged("queue_post answered DENYSOFT queue_post after close.example");
        String log = server.log();
        Map<String, String> actual = new LinkedHashMap<>();
        for (String helo : expected.keySet()) {
            actual.put(helo, row(replies.get(helo), log.contains("queue ran for " + helo),
                    log.contains("queue_post answered DENYSOFT queue_post after " + helo)));
        }
        assertTables(expected, actual);
        assertEquals(2, files(server.base.resolve("data/maildir/new")).size());
    }

    /**
     * The same probe in qpsmtpd 0.94, where the cases end with a reply (qpsmtpd sends nothing for a DONE, and
     * has no plugin timeout): queue_post runs after OK, DENYSOFT, DENY, and after a queue plugin that died,
     * which qpsmtpd logs and skips, so queue/maildir queues the message.
     */
    @Test
    public void qpsmtpdRunsQueuePostAfterAFailedQueuePlugin() throws Exception {
        String probe = """
                sub hook_queue {
                    my ($self, $transaction) = @_;
                    my $helo = $self->qp->connection->hello_host;
                    $self->log(LOGERROR, "queue ran for $helo");
                    return (DENYSOFT, 'probe denysoft') if $helo eq 'denysoft.example';
                    return (DENY, 'probe deny') if $helo eq 'deny.example';
                    die "probe fails on purpose\\n" if $helo eq 'throw.example';
                    return DECLINED;
                }
                sub hook_queue_post {
                    my ($self) = @_;
                    return (DENYSOFT, 'queue_post after ' . $self->qp->connection->hello_host);
                }
                """;
        Map<String, String> expected = new LinkedHashMap<>();
        expect(expected, "ok.example", "250", true, true);
        expect(expected, "denysoft.example", "452", true, true);
        expect(expected, "deny.example", "552", true, true);
        expect(expected, "throw.example", "250", true, true);
        Map<String, String> replies = new HashMap<>();
        server = ServerProcess.qpsmtpd(List.of("localhost"), Map.of("durability_probe", probe), "durability_probe");
        for (String helo : expected.keySet()) {
            try (SmtpClient client = new SmtpClient(server.port)) {
                client.reply();
                client.command("EHLO " + helo);
                String reply = send(client, message(helo.replace(".example", ""), 1_000));
                replies.put(helo, reply == null ? "closed" : reply.substring(0, 3));
                client.command("QUIT");
            }
        }
        server.awaitLogged("queue_post after throw.example");
        String log = server.log();
        Map<String, String> actual = new LinkedHashMap<>();
        for (String helo : expected.keySet()) {
            actual.put(helo, row(replies.get(helo), log.contains("queue ran for " + helo), log.contains("queue_post after " + helo)));
        }
        assertTables(expected, actual);
    }

    /** Fails with both tables whole, so every case that differs shows at once. */
    private static void assertTables(Map<String, String> expected, Map<String, String> actual) {
        if (!expected.equals(actual)) {
            fail("queue hooks by the client's EHLO name\nexpected:\n" + table(expected) + "actual:\n" + table(actual));
        }
    }

    private static void expect(Map<String, String> table, String helo, String reply, boolean queueRan, boolean queuePostRan) {
        table.put(helo, row(reply, queueRan, queuePostRan));
    }

    private static String row(String reply, boolean queueRan, boolean queuePostRan) {
        return "reply " + reply + ", queue " + (queueRan ? "ran" : "skipped") + ", queue_post " + (queuePostRan ? "ran" : "skipped");
    }

    private static String table(Map<String, String> rows) {
        StringBuilder text = new StringBuilder();
        rows.forEach((helo, row) -> text.append(String.format("%-18s %s%n", helo, row)));
        return text.toString();
    }


    /**
     * The probe as a bundle: its classes from this test's output folder, a manifest, and an activator that
     * registers it as the whiteboard expects a plugin's hook services.
     */
    private static Path probeBundle(Path folder) throws Exception {
        Path classes = Path.of(DurabilityIT.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        String packagePath = DurabilityIT.class.getPackageName().replace('.', '/');
        String probeClass = QueueProbe.class.getName().substring(DurabilityIT.class.getPackageName().length() + 1);
        Manifest manifest = new Manifest();
        Attributes attributes = manifest.getMainAttributes();
        attributes.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        attributes.putValue("Bundle-ManifestVersion", "2");
        attributes.putValue("Bundle-SymbolicName", "org.postern.itests.durability-probe");
        attributes.putValue("Bundle-Version", "1.0.0");
        attributes.putValue("Bundle-Activator", QueueProbe.class.getName());
        attributes.putValue("Import-Package", "org.osgi.framework,org.postern.smtp.api");
        Path jar = folder.resolve("durability-probe.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest);
                Stream<Path> compiled = Files.list(classes.resolve(packagePath))) {
            for (Path file : compiled.filter(f -> f.getFileName().toString().startsWith(probeClass)).toList()) {
                out.putNextEntry(new JarEntry(packagePath + "/" + file.getFileName()));
                Files.copy(file, out);
                out.closeEntry();
            }
        }
        return jar;
    }

    /** The probe plugin; runs inside the server, so it uses nothing of the test's but the API. */
    public static final class QueueProbe implements BundleActivator, QueuePreHook, QueueHook, QueuePostHook {
        private ServiceRegistration<?> registration;

        @Override
        public void start(BundleContext context) {
            Hashtable<String, Object> properties = new Hashtable<>();
            properties.put("postern.plugin", "durability-probe");
            properties.put("postern.hook", new String[] {"queue_pre", "queue", "queue_post"});
            // before queue/maildir (1000), which queues what the probe declines
            properties.put("postern.hook.order", 500);
            properties.put("postern.hook.timeout", 1);
            registration = context.registerService(new String[] {QueuePreHook.class.getName(), QueueHook.class.getName(),
                    QueuePostHook.class.getName()}, this, properties);
        }

        @Override
        public void stop(BundleContext context) {
            registration.unregister();
        }

        private static String asked(HookContext ctx) {
            return ctx.session().heloHost().orElse("");
        }

        @Override
        public HookResult onQueuePre(HookContext ctx) {
            return switch (asked(ctx)) {
                case "pre-done.example" -> HookResult.done();
                case "pre-deny.example" -> HookResult.deny();
                default -> HookResult.declined();
            };
        }

        @Override
        public HookResult onQueue(HookContext ctx) {
            String asked = asked(ctx);
            ctx.log(LogLevel.WARN, "queue ran for " + asked);
            return switch (asked) {
                case "denysoft.example" -> HookResult.denySoft();
                case "deny.example" -> HookResult.deny();
                case "throw.example" -> throw new IllegalStateException("probe fails on purpose");
                case "timeout.example" -> HookResult.later(new CompletableFuture<>());
                case "done.example" -> HookResult.done();
                case "close.example" -> HookResult.denySoft("closing on purpose").withReplyCode(421);
                default -> HookResult.declined();
            };
        }

        @Override
        public HookResult onQueuePost(HookContext ctx) {
            return HookResult.denySoft("queue_post after " + asked(ctx));
        }
    }

    // --- shared --------------------------------------------------------------------------------------------

    /** bin/postern with the core's rcpt_ok and queue/maildir and no other plugin, once queue/maildir answers. */
    private static ServerProcess posternWithMaildir(String name, Map<String, String> etcLines) throws Exception {
        return ServerProcess.posternWithPlugins(name, etcLines, List.of()).awaitPlugin("queue/maildir");
    }

    /** A message of about this many octets, unique by its Message-ID, with lines that need dot-stuffing. */
    private record Message(String id, String text) {
        /** As sent: dot-stuffed, with the final dot. */
        String wire() {
            return text.replace("\r\n.", "\r\n..") + ".\r\n";
        }

        /** As a Maildir holds it after the trace fields: LF line endings. */
        String stored() {
            return text.replace("\r\n", "\n");
        }
    }

    private static Message message(String id, int size) {
        StringBuilder text = new StringBuilder(size + 200).append("From: <").append(SENDER).append(">\r\nTo: <").append(RECIPIENT)
                .append(">\r\nSubject: durability ").append(id).append("\r\nMessage-ID: <").append(id)
                .append("@durability.example>\r\n\r\n.\r\n..\r\n");
        Random random = new Random(id.hashCode());
        while (text.length() < size) {
            if (random.nextInt(8) == 0) {
                text.append('.');
            }
            for (int i = random.nextInt(100); i > 0; i--) {
                text.append((char) (' ' + random.nextInt(95)));
            }
            text.append("\r\n");
        }
        return new Message(id, text.toString());
    }

    private static SmtpClient session(int port, String helo) throws IOException {
        SmtpClient client = new SmtpClient(port);
        client.reply();
        client.command("EHLO " + helo);
        return client;
    }

    private static void startData(SmtpClient client) throws IOException {
        assertTrue(client.lastReply(), client.command("MAIL FROM:<" + SENDER + ">").startsWith("250"));
        assertTrue(client.lastReply(), client.command("RCPT TO:<" + RECIPIENT + ">").startsWith("250"));
        assertTrue(client.lastReply(), client.command("DATA").startsWith("354"));
    }

    /** Sends a whole transaction; the reply to the final dot, or null when the server closed the connection. */
    private static String send(SmtpClient client, Message message) throws IOException {
        for (String command : List.of("MAIL FROM:<" + SENDER + ">", "RCPT TO:<" + RECIPIENT + ">", "DATA")) {
            String reply = client.command(command);
            if (reply == null) {
                return null;
            }
            assertTrue(command + ": " + reply, reply.startsWith(command.equals("DATA") ? "354" : "250"));
        }
        client.send(message.wire());
        return client.reply();
    }

    /**
     * Checks new/: every file holds one message sent, whole (the trace fields, the core's added fields, then
     * the message byte for byte), no message is there twice, and every accepted message is there.
     */
    private static void assertDelivered(Path maildir, Map<String, Message> sent, Set<String> accepted) throws IOException {
        Map<String, List<String>> delivered = delivered(maildir);
        for (Map.Entry<String, List<String>> copies : delivered.entrySet()) {
            Message message = sent.get(copies.getKey());
            assertNotNull("delivered but never sent: " + copies.getKey(), message);
            assertEquals("copies of " + message.id(), 1, copies.getValue().size());
            String content = copies.getValue().get(0);
            assertTrue(message.id() + " is not whole", content.startsWith(TRACE) && content.endsWith(message.stored())
                    && content.length() >= TRACE.length() + message.stored().length()
                    && ADDED_FIELDS.matcher(content.substring(TRACE.length(), content.length() - message.stored().length())).matches());
        }
        for (String id : accepted) {
            assertTrue("answered 250 but not in the Maildir: " + id, delivered.containsKey(id));
        }
    }

    /** The files in new/ by the Message-ID they hold; a file without one is reported under its name. */
    private static Map<String, List<String>> delivered(Path maildir) throws IOException {
        Map<String, List<String>> delivered = new HashMap<>();
        for (Path file : files(maildir.resolve("new"))) {
            String content = Files.readString(file, StandardCharsets.ISO_8859_1);
            Matcher id = MESSAGE_ID.matcher(content);
            delivered.computeIfAbsent(id.find() ? id.group(1) : "file " + file, k -> new ArrayList<>()).add(content);
        }
        return delivered;
    }

    private static void assertMaildirEmpty(Path maildir) throws IOException {
        assertEquals("Maildir new/", List.of(), files(maildir.resolve("new")));
        assertEquals("Maildir tmp/", List.of(), files(maildir.resolve("tmp")));
    }

    private static List<Path> files(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(Files::isRegularFile).sorted().toList();
        }
    }

    /** Waits, polling without pause, for the first file in a folder; a kill then lands while it is being written. */
    private static List<Path> awaitFiles(Path folder) throws IOException {
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
            List<Path> files = files(folder);
            if (!files.isEmpty()) {
                return files;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("no file in " + folder + " within 20 s");
    }

    private static int run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int status = process.waitFor();
        if (status != 0) {
            System.out.println(String.join(" ", command) + ": exit " + status + ": " + output);
        }
        return status;
    }
}
