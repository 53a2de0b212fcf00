package org.postern.smtp.plugin.ident.p0f.internal;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for p0f's API socket, for what the real p0f cannot be made to do on cue (answer a given fingerprint,
 * garble, stall, hang up): each connection is served by a script on a thread of its own, after the query was read.
 */
final class FakeP0f implements AutoCloseable {
    interface Script {
        void serve(SocketChannel connection) throws Exception;
    }

    /** The queries received, whole, in order. */
    final List<byte[]> queries = new CopyOnWriteArrayList<>();
    private final ServerSocketChannel server;
    private final Thread acceptor;

    FakeP0f(Path socket, Script script) throws IOException {
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
        acceptor = new Thread(() -> {
            while (server.isOpen()) {
                try {
                    SocketChannel connection = server.accept();
                    Thread serving = new Thread(() -> {
                        try (connection) {
                            ByteBuffer query = ByteBuffer.allocate(P0fApi.QUERY_LENGTH);
                            while (query.hasRemaining() && connection.read(query) >= 0) {
                                // p0f reads the 21 octets of a query however they arrive
                            }
                            queries.add(query.array());
                            script.serve(connection);
                        } catch (Exception ignored) {
                            // the plugin went away; the test looks at what it answered
                        }
                    }, "fake-p0f-connection");
                    serving.setDaemon(true);
                    serving.start();
                } catch (IOException closed) {
                    return;
                }
            }
        }, "fake-p0f");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A script that answers with these octets. */
    static Script answering(byte[] answer) {
        return connection -> connection.write(ByteBuffer.wrap(answer));
    }

    @Override
    public void close() throws Exception {
        server.close();
        acceptor.join(5000);
    }
}
