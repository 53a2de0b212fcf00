package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * Two Postern nodes with greylisting and karma keep their state in one Debian redis-server on loopback, through the
 * store-redis bundle: a triplet deferred by one node is accepted by the other after the black timeout; while Redis
 * is down greylisting lets mail pass (its store_failure default) without holding the session; karma's counters,
 * added to by both nodes at once, lose no count.
 */
public class StoreRedisIT {
    private static final int BLACK_TIMEOUT_SECONDS = 2;
    private static final String DEFERRED = "450 This mail is temporarily denied";
    private static final String ACCEPTED = "250 <shared@example.org>, sender OK - how exciting to get mail from you!";
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static int redisPort;
    private static Process redis;
    private static ServerProcess nodeA;
    private static ServerProcess nodeB;

    @BeforeClass
    public static void startRedisAndTwoNodes() throws Exception {
        try (ServerSocket probe = new ServerSocket(0)) {
            redisPort = probe.getLocalPort();
        }
        startRedis();
        nodeA = SERVERS.add(node("a"));
        nodeB = SERVERS.add(node("b"));
        awaitBothNodesConnected();
    }

    @AfterClass
    public static void stopRedis() throws InterruptedException {
        if (redis != null) {
            redis.destroy();
            if (!redis.waitFor(10, TimeUnit.SECONDS)) {
                redis.destroyForcibly().waitFor();
            }
        }
    }

    private static ServerProcess node(String name) throws Exception {
        return ServerProcess.posternWithPlugins("store-redis-" + name,
                        Map.of("org.postern.store.redis.cfg", "uri = redis://127.0.0.1:" + redisPort + "\ntimeout.ms = 1000",
                                "org.postern.smtp.plugin.greylisting.cfg",
                                "black_timeout = " + BLACK_TIMEOUT_SECONDS + "\ngrey_timeout = 60\nsender = 1\n",
                                "org.postern.smtp.plugin.karma.cfg", "reject = 0"),
                        List.of("store-redis", "plugin-greylisting", "plugin-karma"))
                .awaitPlugin("greylisting").awaitPlugin("karma");
    }

    private static void startRedis() throws Exception {
        redis = new ProcessBuilder("redis-server", "--port", Integer.toString(redisPort), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        long deadline = System.currentTimeMillis() + 10_000;
        while (!redisCli("PING").equals("PONG")) {
            assertTrue("redis-server did not start on port " + redisPort,
                    redis.isAlive() && System.currentTimeMillis() < deadline);
            Thread.sleep(20);
        }
    }

    private static String redisCli(String... command) throws Exception {
        List<String> line = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(redisPort)));
        line.addAll(List.of(command));
        Process cli = new ProcessBuilder(line).redirectErrorStream(true).start();
        String output = new String(cli.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        cli.waitFor(10, TimeUnit.SECONDS);
        return output;
    }

    /** Each node's store holds one connection: with redis-cli's own, three clients. */
    private static void awaitBothNodesConnected() throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        String clients;
        while ((clients = redisCli("CLIENT", "LIST")).lines().count() < 3) {
            assertTrue("the nodes did not connect to Redis within 30 s:\n" + clients + "\n" + nodeA.log() + nodeB.log(),
                    System.currentTimeMillis() < deadline);
            Thread.sleep(50);
        }
    }

    private static List<String> attempt(ServerProcess server, String sender) throws IOException {
        return ClientScript.replies(server, List.of("HELO client.example", "MAIL FROM:<" + sender + ">",
                "RCPT TO:<postmaster@localhost>", "DATA", "Subject: shared state\r\n\r\nHello.\r\n.", "QUIT"));
    }

    @Test
    public void healthShowsRedisAnsweringPingAndNotWhileItIsDown() throws Exception {
        String peer = "Redis redis://127.0.0.1:" + redisPort;
        Health.Page page = Health.await(nodeA, peer, answer -> answer.body().contains("Postern peer: " + peer));
        assertEquals(page.body(), 1, page.lines("OK Postern peer: " + peer + ": " + peer + " answered: PONG"));
        stopRedis();
        try {
            page = Health.await(nodeB, "Redis down", answer -> answer.lines("CRITICAL Postern peer: " + peer + ": " + peer + " did not answer: ") == 1);
            assertEquals(page.body(), 503, page.status());
        } finally {
            startRedis();
            awaitBothNodesConnected();
        }
    }

    @Test
    public void aTripletDeferredByOneNodeIsAcceptedByTheOtherAfterTheBlackTimeout() throws Exception {
        long firstAttempt = System.currentTimeMillis();
        assertEquals(DEFERRED, attempt(nodeA, "shared@example.org").get(1));
        String keys = redisCli("--scan", "--pattern", "postern:greylisting:*");
        assertEquals(keys, 1, keys.lines().filter(key -> key.contains("shared@example.org")).count());

        // the black timeout is a span of time: nothing to poll for
        Thread.sleep(Math.max(0, firstAttempt + BLACK_TIMEOUT_SECONDS * 1000 + 500 - System.currentTimeMillis()));
        // node B has never seen this triplet itself: it whitelists the record node A wrote
        List<String> accepted = attempt(nodeB, "shared@example.org");
        assertEquals(ACCEPTED, accepted.get(1));
        assertTrue(accepted.toString(), accepted.get(4).startsWith("250 "));
        assertTrue(nodeB.log(), nodeB.log().contains("pass: updated grey->white"));
    }

    @Test
    public void whileRedisIsDownGreylistingLetsMailPassWithoutHoldingTheSession() throws Exception {
        stopRedis();
        try {
            long started = System.nanoTime();
            List<String> replies = attempt(nodeA, "down@example.org");
            long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertTrue(replies.toString(), replies.get(1).startsWith("250 "));
            assertTrue(replies.toString(), replies.get(4).startsWith("250 "));
            assertEquals(replies.toString(), "closed", replies.get(replies.size() - 1));
            assertTrue("the session took " + elapsed + " ms", elapsed < 5_000);
            assertTrue(nodeA.log(), nodeA.log().contains("state store failed, passed"));
        } finally {
            startRedis();
            awaitBothNodesConnected();
        }
        // the nodes reconnected: a new triplet is deferred again, by either node
        assertEquals(DEFERRED, attempt(nodeB, "back@example.org").get(1));
    }

    @Test
    public void karmaCountsAddedByBothNodesAtOnceAreAllKept() throws Exception {
        int sessions = 24;
        ExecutorService clients = Executors.newFixedThreadPool(sessions);
        try {
            List<Future<String>> replies = new ArrayList<>();
            for (int i = 0; i < sessions; i++) {
                ServerProcess node = i % 2 == 0 ? nodeA : nodeB;
                String sender = "sender" + i + "@spam.info";
                // a .info sender makes the session naughty (karma -4): karma adds 1 to the client's naughty count
                replies.add(clients.submit(() -> {
                    try (SmtpClient client = new SmtpClient(node.port, "127.0.0.7")) {
                        client.reply();
                        client.command("HELO client.example");
                        client.command("MAIL FROM:<" + sender + ">");
                        return client.command("QUIT");
                    }
                }));
            }
            for (Future<String> quit : replies) {
                assertTrue(quit.get(30, TimeUnit.SECONDS).startsWith("221"));
            }
        } finally {
            clients.shutdownNow();
        }
        // the count is added after the session ended
        long deadline = System.currentTimeMillis() + 20_000;
        String naughty;
        while (!(naughty = redisCli("GET", "postern:karma:127.0.0.7:naughty")).equals(Integer.toString(sessions))
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(Integer.toString(sessions), naughty);
        assertTrue(nodeA.log(), nodeA.log().contains("negative"));
        assertTrue(nodeB.log(), nodeB.log().contains("negative"));
    }
}
