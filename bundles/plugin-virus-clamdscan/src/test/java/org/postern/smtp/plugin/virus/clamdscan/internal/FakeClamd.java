package org.postern.smtp.plugin.virus.clamdscan.internal;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for clamd on a loopback port or a Unix socket, for what a real clamd cannot be made to do on cue (fail,
 * stall, garble its replies): each connection is served by a script on a thread of its own. {@link Connection#readRequest}
 * checks the framing of what the plugin sends as clamd reads it, so a request clamd would misread fails the test.
 */
final class FakeClamd implements AutoCloseable {
    interface Script {
        void serve(Connection connection) throws Exception;
    }

    /** The messages received in whole requests, in order. */
    final List<byte[]> messages = new CopyOnWriteArrayList<>();
    /** The largest INSTREAM chunk received. */
    final AtomicInteger largestChunk = new AtomicInteger();
    final AtomicInteger connections = new AtomicInteger();
    private final ServerSocketChannel server;
    private final Thread acceptor;

    private FakeClamd(ServerSocketChannel server, Script script) {
        this.server = server;
        acceptor = new Thread(() -> {
            while (server.isOpen()) {
                try {
                    SocketChannel channel = server.accept();
                    connections.incrementAndGet();
                    Thread serving = new Thread(() -> {
                        try (channel) {
                            script.serve(new Connection(channel));
                        } catch (Exception ignored) {
                            // the client went away; the test looks at what the plugin answered
                        }
                    }, "fake-clamd-connection");
                    serving.setDaemon(true);
                    serving.start();
                } catch (IOException closed) {
                    return;
                }
            }
        }, "fake-clamd");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    static FakeClamd tcp(Script script) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return new FakeClamd(server, script);
    }

    static FakeClamd unix(Path socket, Script script) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
        return new FakeClamd(server, script);
    }

    int port() throws IOException {
        return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    @Override
    public void close() throws Exception {
        server.close();
        acceptor.join(5000);
    }

    final class Connection {
        private final DataInputStream in;
        private final OutputStream out;

        Connection(SocketChannel channel) {
            in = new DataInputStream(Channels.newInputStream(channel));
            out = Channels.newOutputStream(channel);
        }

        /** Reads a whole session (IDSESSION, VERSION, INSTREAM and its chunks, END) and returns the message. */
        byte[] readRequest() throws IOException {
            byte[] message = readStream(Long.MAX_VALUE);
            expect("zEND");
            return message;
        }

        /**
         * Reads IDSESSION, VERSION, INSTREAM and the chunks up to the terminating one; returns the message, or null
         * when more than {@code limit} octets came (the rest is left unread, as clamd leaves it at its StreamMaxLength).
         */
        byte[] readStream(long limit) throws IOException {
            expect("zIDSESSION");
            expect("zVERSION");
            expect("zINSTREAM");
            ByteArrayOutputStream message = new ByteArrayOutputStream();
            int length;
            while ((length = in.readInt()) != 0) {
                largestChunk.accumulateAndGet(length, Math::max);
                message.write(in.readNBytes(length));
                if (message.size() > limit) {
                    return null;
                }
            }
            messages.add(message.toByteArray());
            return message.toByteArray();
        }

        /** Reads one NUL-terminated command, which must be this one. */
        void expect(String command) throws IOException {
            ByteArrayOutputStream read = new ByteArrayOutputStream();
            int octet;
            while ((octet = in.read()) > 0) {
                read.write(octet);
            }
            String got = read.toString(StandardCharsets.ISO_8859_1);
            if (octet < 0 || !got.equals(command)) {
                throw new IOException("expected " + command + ", got " + got);
            }
        }

        /** Sends replies, each ended by NUL as in z-mode. */
        void reply(String... replies) throws IOException {
            for (String reply : replies) {
                out.write((reply + "\0").getBytes(StandardCharsets.ISO_8859_1));
            }
            out.flush();
        }

        /** Waits until the client closes the connection (or the test ends). */
        void awaitClose() throws IOException {
            in.transferTo(OutputStream.nullOutputStream());
        }
    }
}
