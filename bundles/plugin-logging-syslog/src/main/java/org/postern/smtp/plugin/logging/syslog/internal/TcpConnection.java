package org.postern.smtp.plugin.logging.syslog.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * RFC 6587 3.4.1: messages over one TCP connection, each framed by its length in octets. The connection is
 * non-blocking, so connecting and writing give up at the timeout instead of waiting for a receiver that stopped
 * reading.
 */
final class TcpConnection implements SyslogConnection {
    /** rsyslog's default maximum message size; a receiver cuts longer ones anyway. */
    private static final int MAX_OCTETS = 8192;

    private final String host;
    private final int port;
    private final long timeoutNanos;
    private final ByteBuffer endOfStreamProbe = ByteBuffer.allocate(1);
    private SocketChannel channel;
    private Selector ready;

    TcpConnection(String host, int port, long timeoutMillis) {
        this.host = host;
        this.port = port;
        this.timeoutNanos = timeoutMillis * 1_000_000L;
    }

    @Override
    public int maxOctets() {
        return MAX_OCTETS;
    }

    @Override
    public void send(byte[] message) throws IOException {
        if (channel == null || closedByReceiver()) {
            close();
            connect();
        }
        ByteBuffer frame = ByteBuffer.allocate(message.length + 8);
        frame.put((message.length + " ").getBytes(StandardCharsets.US_ASCII)).put(message).flip();
        long deadline = System.nanoTime() + timeoutNanos;
        channel.keyFor(ready).interestOps(SelectionKey.OP_WRITE);
        while (frame.hasRemaining()) {
            if (channel.write(frame) == 0) {
                await(deadline, "write");
            }
        }
    }

    /**
     * A receiver sends nothing, so input means it closed the connection (it restarted, say). A message written
     * then would be lost without an error; checking first sends it over a new connection instead.
     */
    private boolean closedByReceiver() {
        endOfStreamProbe.clear();
        try {
            return channel.read(endOfStreamProbe) < 0;
        } catch (IOException reset) {
            return true;
        }
    }

    private void connect() throws IOException {
        channel = SocketChannel.open();
        channel.configureBlocking(false);
        ready = Selector.open();
        channel.register(ready, SelectionKey.OP_CONNECT);
        long deadline = System.nanoTime() + timeoutNanos;
        if (!channel.connect(SyslogSender.resolve(host, port))) {
            while (!channel.finishConnect()) {
                await(deadline, "connection");
            }
        }
    }

    private void await(long deadline, String what) throws IOException {
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedIOException("closing");
        }
        long leftMillis = (deadline - System.nanoTime()) / 1_000_000L;
        if (leftMillis <= 0) {
            throw new IOException(what + " timed out after " + timeoutNanos / 1_000_000L + " ms");
        }
        ready.select(leftMillis);
        ready.selectedKeys().clear();
    }

    @Override
    public void close() {
        for (AutoCloseable resource : new AutoCloseable[] {channel, ready}) {
            if (resource != null) {
                try {
                    resource.close();
                } catch (Exception ignored) {
                    // the socket is given up either way
                }
            }
        }
        channel = null;
        ready = null;
    }

    @Override
    public String toString() {
        return "tcp " + host + ":" + port;
    }
}
