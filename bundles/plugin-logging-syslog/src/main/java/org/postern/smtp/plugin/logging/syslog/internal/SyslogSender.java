package org.postern.smtp.plugin.logging.syslog.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands messages to a syslog receiver from a thread of its own, through a bounded queue: the server's logging
 * thread only queues a message, so a slow or absent receiver never holds it up, and costs messages, not memory.
 * A message that finds the queue full, or fails to go out, is dropped and counted. After a failure the sender
 * drops what comes for {@link #RETRY_AFTER_MILLIS}, then connects again; the count of dropped messages goes to
 * the server log when the receiver takes messages again.
 */
final class SyslogSender implements AutoCloseable {
    static final int QUEUE_CAPACITY = 1000;
    static final long RETRY_AFTER_MILLIS = 5_000;
    private static final Logger LOG = LoggerFactory.getLogger(SyslogSender.class);

    private final SyslogConnection connection;
    private final LongSupplier millisClock;
    private final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final AtomicLong dropped = new AtomicLong();
    private final Thread thread;
    /** Written by the sender thread only. */
    private long droppedReported;
    private boolean down;
    private long retryAt;
    private long nextOverflowReport;

    SyslogSender(SyslogConnection connection, LongSupplier millisClock) {
        this.connection = connection;
        this.millisClock = millisClock;
        this.thread = new Thread(this::sendQueued, "postern-syslog " + connection);
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues a message, cut to what the transport carries; never waits. */
    void offer(String message) {
        if (!queue.offer(cut(message.getBytes(StandardCharsets.UTF_8), connection.maxOctets()))) {
            dropped.incrementAndGet();
        }
    }

    /** Messages dropped so far: the queue was full, the receiver failed, or it was waited for. */
    long dropped() {
        return dropped.get();
    }

    /** Cuts a UTF-8 message to at most {@code max} octets, not inside a character. */
    static byte[] cut(byte[] octets, int max) {
        if (octets.length <= max) {
            return octets;
        }
        int end = max;
        while (end > 0 && (octets[end] & 0xC0) == 0x80) {
            end--;
        }
        return Arrays.copyOf(octets, end);
    }

    static InetSocketAddress resolve(String host, int port) throws IOException {
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new IOException("unknown host " + host);
        }
        return address;
    }

    private void sendQueued() {
        try {
            while (true) {
                byte[] message = queue.take();
                if (down && millisClock.getAsLong() < retryAt) {
                    dropped.incrementAndGet();
                } else {
                    send(message);
                }
            }
        } catch (InterruptedException closing) {
            connection.close();
        }
    }

    private void send(byte[] message) {
        try {
            connection.send(message);
        } catch (IOException e) {
            connection.close();
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
            dropped.incrementAndGet();
            if (!down) {
                LOG.warn("syslog receiver {} failed, messages dropped until it takes them again (tried every {} s): {}",
                        connection, RETRY_AFTER_MILLIS / 1000, e.toString());
            }
            down = true;
            retryAt = millisClock.getAsLong() + RETRY_AFTER_MILLIS;
            return;
        }
        long newlyDropped = dropped.get() - droppedReported;
        if (down) {
            down = false;
            droppedReported += newlyDropped;
            LOG.info("syslog receiver {} takes messages again; {} dropped meanwhile", connection, newlyDropped);
        } else if (newlyDropped > 0 && millisClock.getAsLong() >= nextOverflowReport) {
            droppedReported += newlyDropped;
            nextOverflowReport = millisClock.getAsLong() + RETRY_AFTER_MILLIS;
            LOG.warn("syslog receiver {} is slower than the server logs; {} messages dropped", connection, newlyDropped);
        }
    }

    /** Stops the thread; what is still queued is not sent. */
    @Override
    public void close() {
        thread.interrupt();
        try {
            thread.join(RETRY_AFTER_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
