package org.postern.smtp.plugin.spamassassin.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SpamdTest {
    private static final long MESSAGE_SIZE = 64L << 20;

    /** A message of {@code size} octets made up as it is read, counting what was read, noting when it was closed. */
    private static final class Generated extends InputStream {
        final AtomicLong read = new AtomicLong();
        final AtomicBoolean closed = new AtomicBoolean();
        private final long size;

        Generated(long size) {
            this.size = size;
        }

        @Override
        public int read() {
            return read(new byte[1], 0, 1) < 0 ? -1 : 'x';
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            long left = size - read.get();
            if (left <= 0) {
                return -1;
            }
            int count = (int) Math.min(length, left);
            java.util.Arrays.fill(buffer, offset, offset + count, (byte) 'x');
            read.addAndGet(count);
            return count;
        }

        @Override
        public void close() {
            closed.set(true);
        }
    }

    @Test
    void theMessageIsReadNoFasterThanSpamdTakesIt() throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        AtomicLong received = new AtomicLong();
        try (FakeSpamd spamd = FakeSpamd.tcp((client, fake) -> {
            go.await();
            ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
            for (int n; (n = client.read(buffer.clear())) >= 0;) {
                received.addAndGet(n);
            }
            FakeSpamd.write(client, FakeSpamd.headersAnswer(false, 0.0, "X-Spam-Flag: NO\r\n"));
        }); Spamd client = new Spamd(spamd.socket(), 1000, 20_000)) {
            Generated message = new Generated(MESSAGE_SIZE);
            var answer = client.check("postern", "<a@example.org>", message, MESSAGE_SIZE);
            Thread.sleep(1000);
            // what the socket buffers hold, and a chunk: far from the whole message
            assertTrue(message.read.get() < 16 << 20, message.read.get() + " octets read while spamd read none");
            go.countDown();
            assertEquals(false, answer.get(10, TimeUnit.SECONDS).spam());
            String prefix = "HEADERS SPAMC/1.5\r\nUser: postern\r\n\r\nX-Envelope-From: <a@example.org>\r\n";
            assertEquals(prefix.length() + MESSAGE_SIZE, received.get());
            assertTrue(message.closed.get());
        }
    }

    @Test
    void aMessageThatTurnsOutLargerThanTheBoundIsNotSentWhole() throws Exception {
        try (FakeSpamd spamd = FakeSpamd.tcp(FakeSpamd.silent()); Spamd client = new Spamd(spamd.socket(), 1000, 5000)) {
            Generated message = new Generated(1 << 20);
            ExecutionException failed = assertThrows(ExecutionException.class,
                    () -> client.check("postern", "<>", message, 200_000).get(10, TimeUnit.SECONDS));
            assertInstanceOf(Spamd.TooLarge.class, failed.getCause());
            assertTrue(message.read.get() < 200_000 + Spamd.CHUNK_SIZE, message.read.get() + " octets read");
            assertTrue(message.closed.get());
        }
    }

    @Test
    void spamdSocketIsAPathOrAHostWithAnOptionalPort() {
        assertEquals(UnixDomainSocketAddress.of(Path.of("/run/spamd.sock")), Spamd.address("/run/spamd.sock"));
        assertEquals(InetSocketAddress.createUnresolved("spamd.example", 7830), Spamd.address("spamd.example:7830"));
        assertEquals(InetSocketAddress.createUnresolved("localhost", 783), Spamd.address(" localhost "));
        assertEquals(InetSocketAddress.createUnresolved("::1", 7830), Spamd.address("[::1]:7830"));
        assertEquals(InetSocketAddress.createUnresolved("::1", 783), Spamd.address("::1"));
        assertThrows(IllegalArgumentException.class, () -> Spamd.address("spamd.example:spamd"));
        assertThrows(IllegalArgumentException.class, () -> Spamd.address(":783"));
    }

    /** spamd's side of PING: the request up to its blank line, then the answer. */
    private static FakeSpamd.Behaviour answeringPing(String answer) {
        return (client, spamd) -> {
            StringBuilder request = new StringBuilder();
            ByteBuffer buffer = ByteBuffer.allocate(256);
            while (!request.toString().endsWith("\r\n\r\n") && client.read(buffer.clear()) >= 0) {
                request.append(new String(buffer.array(), 0, buffer.position(), StandardCharsets.ISO_8859_1));
            }
            spamd.requests.add(request.toString());
            FakeSpamd.write(client, answer);
        };
    }

    @Test
    void pingIsAnsweredWithPongOverTcpAndTheUnixSocket() throws Exception {
        for (FakeSpamd spamd : List.of(FakeSpamd.tcp(answeringPing("SPAMD/1.5 0 PONG\r\n")),
                FakeSpamd.unix(answeringPing("SPAMD/1.5 0 PONG\r\n")))) {
            try (spamd; Spamd client = new Spamd(spamd.socket(), 1000, 5000)) {
                assertEquals("SPAMD/1.5 0 PONG", client.ping(Duration.ofSeconds(2)).get(10, TimeUnit.SECONDS));
                assertEquals(List.of("PING SPAMC/1.5\r\n\r\n"), spamd.requests);
            }
        }
    }

    @Test
    void pingFailsOnAnyOtherAnswer() throws Exception {
        try (FakeSpamd spamd = FakeSpamd.tcp(answeringPing("SPAMD/1.0 76 Bad header line: (EOF)\r\n"));
                Spamd client = new Spamd(spamd.socket(), 1000, 5000)) {
            ExecutionException failed = assertThrows(ExecutionException.class, () -> client.ping(Duration.ofSeconds(2)).get(10, TimeUnit.SECONDS));
            assertEquals("spamd answered PING with: SPAMD/1.0 76 Bad header line: (EOF)", failed.getCause().getMessage());
        }
    }

    @Test
    void pingFailsWithinItsTimeoutWhenSpamdIsSilentOrDown() throws Exception {
        try (FakeSpamd spamd = FakeSpamd.tcp(FakeSpamd.silent()); Spamd client = new Spamd(spamd.socket(), 1000, 5000)) {
            long started = System.nanoTime();
            ExecutionException failed = assertThrows(ExecutionException.class, () -> client.ping(Duration.ofMillis(300)).get(10, TimeUnit.SECONDS));
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertInstanceOf(TimeoutException.class, failed.getCause());
            assertTrue(tookMillis >= 300 && tookMillis < 3000, tookMillis + " ms");
        }
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        try (Spamd client = new Spamd("127.0.0.1:" + closedPort, 1000, 5000)) {
            ExecutionException failed = assertThrows(ExecutionException.class, () -> client.ping(Duration.ofSeconds(2)).get(10, TimeUnit.SECONDS));
            assertInstanceOf(ConnectException.class, failed.getCause());
        }
    }
}
