package org.postern.smtp.plugin.queue.postfixqueue.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class PostfixQueueTest {
    private static final String MESSAGE = "Received: from client\r\nMessage-Id: <42@client.example>\r\n\r\nbody\rwith CR\r\n"
            + "x".repeat(2100) + "\r\nlast\r\n";

    @TempDir
    Path folder;

    private final List<PostfixQueue> plugins = new ArrayList<>();

    @AfterEach
    void deactivate() {
        plugins.forEach(PostfixQueue::deactivate);
    }

    /**
     * A cleanup service of the test's own on a Unix socket, for one connection: greets with a queue id, reads the
     * flags and the records up to END (or the end of the connection), answers with the status and reason given. The
     * stage completes with what it read: the flags attribute, then each record as its type and data.
     */
    private CompletableFuture<List<String>> cleanup(Path path, int status, String reason) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        return CompletableFuture.supplyAsync(() -> {
            List<String> read = new ArrayList<>();
            try (server; SocketChannel channel = server.accept()) {
                InputStream in = new BufferedInputStream(Channels.newInputStream(channel));
                OutputStream out = Channels.newOutputStream(channel);
                out.write("protocol\0cleanup_protocol\0queue_id\0ABC123\0\0".getBytes(StandardCharsets.US_ASCII));
                read.add(field(in) + "=" + field(in) + field(in));
                for (int type = in.read(); type >= 0; type = in.read()) {
                    int length = 0;
                    for (int shift = 0, b = 0x80; (b & 0x80) != 0; shift += 7) {
                        b = in.read();
                        if (b < 0) {
                            return read;
                        }
                        length |= (b & 0x7F) << shift;
                    }
                    read.add((char) type + ":" + new String(in.readNBytes(length), StandardCharsets.UTF_8));
                    if (type == 'E') {
                        out.write(("status\0" + status + "\0reason\0" + reason + "\0\0").getBytes(StandardCharsets.UTF_8));
                        break;
                    }
                }
            } catch (IOException e) {
                read.add("failed: " + e);
            }
            return read;
        });
    }

    private static String field(InputStream in) throws IOException {
        ByteArrayOutputStream field = new ByteArrayOutputStream();
        for (int b = in.read(); b > 0; b = in.read()) {
            field.write(b);
        }
        return field.toString(StandardCharsets.UTF_8);
    }

    private PostfixQueue plugin(Map<String, String> environment, Object... keysAndValues) {
        Map<String, Object> config = new HashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            config.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        PostfixQueue plugin = new PostfixQueue(TestConfig.of(PostfixQueue.Config.class, config), environment);
        plugins.add(plugin);
        return plugin;
    }

    private static TestContext transaction(String sender, String... recipients) {
        TestContext ctx = new TestContext();
        ctx.transaction().sender(sender).message(MESSAGE);
        for (String recipient : recipients) {
            ctx.transaction().recipient(recipient);
        }
        return ctx;
    }

    private static List<String> settledRecords(CompletableFuture<List<String>> records) throws Exception {
        return records.get(10, TimeUnit.SECONDS);
    }

    @Test
    void theMessageGoesToCleanupAsPostfixRecordsAndTheQueueIdIntoTheReply() throws Exception {
        Path socket = folder.resolve("cleanup");
        CompletableFuture<List<String>> records = cleanup(socket, 0, "");
        TestContext ctx = transaction("<a@example.org>", "<b@example.org>", "<\"c d\"@example.org>");
        HookResult answer = plugin(Map.of(), "socket", socket.toString(), "flags", "FLAG_MASK_EXTERNAL, flag_hold NO_SUCH").onQueue(ctx);
        assertTrue(answer.pending().isPresent(), "answered later, no hook thread waits for cleanup");
        HookResult settled = HookResults.settled(answer);
        assertEquals(ReturnCode.OK, settled.code());
        assertEquals(List.of("Queued! <42@client.example> (Queue-Id: ABC123)"), settled.message());
        List<String> read = settledRecords(records);
        assertEquals("flags=" + (2 | 64 | 16 | 32 | 4), read.get(0));
        assertTrue(read.get(1).matches("T:\\d{10}"), read.get(1));
        assertEquals(List.of("S:a@example.org", "R:b@example.org", "R:c d@example.org", "M:", "N:Received: from client",
                "N:Message-Id: <42@client.example>", "N:", "N:body\rwith CR", "L:" + "x".repeat(1024), "L:" + "x".repeat(1024),
                "N:" + "x".repeat(52), "N:last", "X:", "E:"), read.subList(2, read.size()));
        assertEquals(List.of("INFO queued as ABC123"), ctx.logged());
    }

    @Test
    void cleanupsStatusBecomesTheReplyWithItsOwnEnhancedCode() throws Exception {
        record Case(int status, String reason, ReturnCode code, String enhanced, String text) {
        }
        for (Case c : List.of(
                new Case(8, "5.7.1 no spam here", ReturnCode.DENY, "5.7.1", "no spam here"),
                new Case(4, "", ReturnCode.DENY, "5.3.4", "message file too big"),
                new Case(256, "4.7.1 try later", ReturnCode.DENYSOFT, "4.7.1", "try later"),
                new Case(2 | 4, "", ReturnCode.DENYSOFT, "4.3.0", "queue file write error"),
                new Case(1 << 12, "new", ReturnCode.DENYSOFT, "4.3.0", "Unable to queue message (4096, new)"))) {
            Path socket = folder.resolve("cleanup" + c.status());
            CompletableFuture<List<String>> records = cleanup(socket, c.status(), c.reason());
            HookResult answer = HookResults.settled(plugin(Map.of(), "socket", socket.toString()).onQueue(transaction("<>", "<b@example.org>")));
            assertEquals(c.code(), answer.code(), c.toString());
            assertEquals(c.enhanced(), answer.enhancedStatus().orElseThrow(), c.toString());
            assertEquals(List.of(c.text()), answer.message(), c.toString());
            assertEquals("S:", settledRecords(records).get(2), "the null sender is empty");
        }
    }

    @Test
    void whenTheServerStoppedWaitingTheMessageIsNotEndedSoCleanupQueuesNothing() throws Exception {
        Path socket = folder.resolve("cleanup");
        CompletableFuture<List<String>> records = cleanup(socket, 0, "");
        TestContext ctx = new TestContext().withCommitRefused();
        // larger than the plugin's buffer, so that cleanup gets records before the end
        ctx.transaction().sender("<a@example.org>").recipient("<b@example.org>")
                .message("Subject: big\r\n\r\n" + "line\r\n".repeat(20_000));
        HookResult answer = HookResults.settled(plugin(Map.of(), "socket", socket.toString()).onQueue(ctx));
        assertEquals(List.of("Unable to queue message (withdrawn)"), answer.message());
        List<String> read = settledRecords(records);
        assertTrue(read.contains("N:Subject: big"), "records came");
        assertFalse(read.contains("E:"), "the connection ended before the END record");
    }

    @Test
    void socketsAreTriedInOrderAsQpsmtpdChoosesThem() throws Exception {
        Path socket = folder.resolve("cleanup");
        CompletableFuture<List<String>> records = cleanup(socket, 0, "");
        TestContext ctx = transaction("<a@example.org>", "<b@example.org>")
                .withConfig("cleanup_sockets", folder.resolve("gone").toString(), socket.toString());
        assertEquals(ReturnCode.OK, HookResults.settled(plugin(Map.of(), "socket", "/nonexistent").onQueue(ctx)).code());
        settledRecords(records);
        assertTrue(ctx.logged().get(0).startsWith("ERROR cannot connect to cleanup at " + folder.resolve("gone")), ctx.logged().toString());

        PostfixQueue overridden = plugin(Map.of("POSTFIXQUEUE", "127.0.0.1:10026"), "socket", "/nonexistent");
        assertEquals(List.of("127.0.0.1:10026"), overridden.sockets(ctx));
        assertEquals(List.of("/var/spool/postfix/public/cleanup"), plugin(Map.of()).sockets(new TestContext()));
    }

    @Test
    void noReachableCleanupIsATemporaryFailure() {
        TestContext ctx = transaction("<a@example.org>", "<b@example.org>");
        HookResult answer = HookResults.settled(plugin(Map.of(), "socket", folder.resolve("gone").toString()).onQueue(ctx));
        assertEquals(ReturnCode.DENYSOFT, answer.code());
        assertEquals(451, answer.replyCode().orElseThrow());
        assertEquals(List.of("Unable to queue message (cleanup service unreachable)"), answer.message());
    }

    @Test
    void aServiceThatIsNotCleanupIsRefused() throws Exception {
        Path path = folder.resolve("qmgr");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        CompletableFuture.runAsync(() -> {
            try (server; SocketChannel channel = server.accept()) {
                Channels.newOutputStream(channel).write("protocol\0qmgr_protocol\0\0".getBytes(StandardCharsets.US_ASCII));
                channel.read(java.nio.ByteBuffer.allocate(1));
            } catch (IOException ignored) {
                // the plugin hung up
            }
        });
        TestContext ctx = transaction("<a@example.org>", "<b@example.org>");
        HookResult answer = HookResults.settled(plugin(Map.of(), "socket", path.toString()).onQueue(ctx));
        assertEquals(List.of("Unable to queue message (cleanup failed)"), answer.message());
        assertTrue(ctx.logged().get(0).contains("the service speaks qmgr_protocol, not cleanup_protocol"), ctx.logged().toString());
    }
}
