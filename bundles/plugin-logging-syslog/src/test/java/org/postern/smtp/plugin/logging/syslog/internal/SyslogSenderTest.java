package org.postern.smtp.plugin.logging.syslog.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

class SyslogSenderTest {
    /** One RFC 6587 frame: the length in octets, a space, the message. */
    static String frame(DataInputStream in) throws IOException {
        StringBuilder length = new StringBuilder();
        for (int c = in.read(); c != ' '; c = in.read()) {
            if (c < 0) {
                throw new IOException("connection closed after " + length);
            }
            length.append((char) c);
        }
        byte[] message = new byte[Integer.parseInt(length.toString())];
        in.readFully(message);
        return new String(message, StandardCharsets.UTF_8);
    }

    static void awaitDropped(LongSupplier dropped, long atLeast) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 5000;
        while (dropped.getAsLong() < atLeast) {
            assertTrue(System.currentTimeMillis() < deadline, "dropped " + dropped.getAsLong() + ", expected " + atLeast);
            Thread.sleep(10);
        }
    }

    private static int closedPort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    @Test
    void aReceiverThatIsDownIsTriedAgainOnlyAfterAPause() throws Exception {
        int port = closedPort();
        AtomicLong millis = new AtomicLong(1_000_000);
        try (SyslogSender sender = new SyslogSender(new TcpConnection("127.0.0.1", port, 500), millis::get)) {
            sender.offer("refused");
            awaitDropped(sender::dropped, 1);
            try (ServerSocket upAgain = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                sender.offer("dropped: the pause is not over");
                awaitDropped(sender::dropped, 2);
                upAgain.setSoTimeout(200);
                assertThrows(SocketTimeoutException.class, upAgain::accept);
                millis.addAndGet(SyslogSender.RETRY_AFTER_MILLIS);
                sender.offer("sent");
                upAgain.setSoTimeout(5000);
                try (Socket connection = upAgain.accept()) {
                    assertEquals("sent", frame(new DataInputStream(connection.getInputStream())));
                }
            }
            assertEquals(2, sender.dropped());
        }
    }

    @Test
    void aReceiverThatClosedTheConnectionGetsTheNextMessageOverANewOne() throws Exception {
        try (ServerSocket receiver = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                SyslogSender sender = new SyslogSender(new TcpConnection("127.0.0.1", receiver.getLocalPort(), 1000),
                        System::currentTimeMillis)) {
            receiver.setSoTimeout(5000);
            sender.offer("before the restart");
            try (Socket first = receiver.accept()) {
                assertEquals("before the restart", frame(new DataInputStream(first.getInputStream())));
            }
            sender.offer("after the restart");
            try (Socket second = receiver.accept()) {
                assertEquals("after the restart", frame(new DataInputStream(second.getInputStream())));
            }
            assertEquals(0, sender.dropped());
        }
    }

    @Test
    void aReceiverThatStopsReadingCostsMessagesNotTime() throws Exception {
        try (ServerSocket receiver = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                SyslogSender sender = new SyslogSender(new TcpConnection("127.0.0.1", receiver.getLocalPort(), 200),
                        System::currentTimeMillis)) {
            receiver.setSoTimeout(5000);
            String line = "x".repeat(8000);
            sender.offer(line);
            try (Socket stalled = receiver.accept()) {
                long started = System.nanoTime();
                int offered = 20 * SyslogSender.QUEUE_CAPACITY;
                for (int i = 0; i < offered; i++) {
                    sender.offer(line);
                }
                long offeringMillis = (System.nanoTime() - started) / 1_000_000;
                assertTrue(offeringMillis < 2000, offered + " offers took " + offeringMillis + " ms");
                awaitDropped(sender::dropped, offered - SyslogSender.QUEUE_CAPACITY);
            }
        }
    }

    @Test
    void cutsInsideNoCharacter() {
        byte[] octets = "aä€".getBytes(StandardCharsets.UTF_8); // 1 + 2 + 3 octets
        assertArrayEquals("aä".getBytes(StandardCharsets.UTF_8), SyslogSender.cut(octets, 5));
        assertArrayEquals("a".getBytes(StandardCharsets.UTF_8), SyslogSender.cut(octets, 2));
        assertArrayEquals(octets, SyslogSender.cut(octets, 6));
    }
}
