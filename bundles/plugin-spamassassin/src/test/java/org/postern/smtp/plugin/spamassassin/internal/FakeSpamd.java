package org.postern.smtp.plugin.spamassassin.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * An spamd of the test's own, over TCP on loopback or a Unix domain socket, for the answers a real spamd cannot be
 * made to give (EX_TEMPFAIL, a malformed line, silence): each connection runs its {@link Behaviour} on a thread.
 */
final class FakeSpamd implements AutoCloseable {
    /** What the fake does with one connection. */
    interface Behaviour {
        void serve(SocketChannel client, FakeSpamd spamd) throws Exception;
    }

    final List<String> requests = new CopyOnWriteArrayList<>();
    private final ServerSocketChannel server;
    private final String socket;
    private final Path folder;
    private final Thread acceptor;

    private FakeSpamd(ServerSocketChannel server, String socket, Path folder, Behaviour behaviour) {
        this.server = server;
        this.socket = socket;
        this.folder = folder;
        acceptor = new Thread(() -> {
            while (server.isOpen()) {
                try {
                    SocketChannel client = server.accept();
                    Thread connection = new Thread(() -> {
                        try (client) {
                            behaviour.serve(client, this);
                        } catch (Exception stopped) {
                            // the test is over, or the plugin gave up on the connection
                        }
                    });
                    connection.setDaemon(true);
                    connection.start();
                } catch (IOException closed) {
                    return;
                }
            }
        }, "fake-spamd");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    static FakeSpamd tcp(Behaviour behaviour) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return new FakeSpamd(server, "127.0.0.1:" + ((InetSocketAddress) server.getLocalAddress()).getPort(), null, behaviour);
    }

    static FakeSpamd unix(Behaviour behaviour) throws IOException {
        Path folder = Files.createTempDirectory("fake-spamd");
        Path path = folder.resolve("spamd.sock");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(path));
        return new FakeSpamd(server, path.toString(), folder, behaviour);
    }

    /** The value for spamd_socket. */
    String socket() {
        return socket;
    }

    /** Reads the request until the plugin's half-close, records it, and answers what {@code answer} makes of it. */
    static Behaviour answering(UnaryOperator<String> answer) {
        return (client, spamd) -> {
            String request = readAll(client);
            spamd.requests.add(request);
            write(client, answer.apply(request));
        };
    }

    static Behaviour answering(String answer) {
        return answering(request -> answer);
    }

    /** Reads the request, then keeps the connection open without a word for longer than any test waits. */
    static Behaviour silent() {
        return (client, spamd) -> {
            spamd.requests.add(readAll(client));
            Thread.sleep(30_000);
        };
    }

    /**
     * A successful HEADERS answer as spamd 4 gives it: the Spam line from the score, the header it sends back holding
     * these X-Spam fields after a Received field and the message's own From field.
     */
    static String headersAnswer(boolean spam, double score, String... spamFields) {
        String header = "Received: from localhost by spamd.example\r\n\twith SpamAssassin (version 4.0.1);\r\n"
                + "\tThu, 03 Dec 2026 06:38:30 +0000\r\nFrom: a@example.org\r\n" + String.join("", spamFields) + "\r\n";
        return "SPAMD/1.1 0 EX_OK\r\nContent-length: " + header.length() + "\r\nSpam: " + (spam ? "True" : "False") + " ; "
                + score + " / 5.0\r\n\r\n" + header;
    }

    static String readAll(SocketChannel client) throws IOException {
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        while (client.read(buffer.clear()) >= 0) {
            request.write(buffer.array(), 0, buffer.position());
        }
        return request.toString(StandardCharsets.ISO_8859_1);
    }

    static void write(SocketChannel client, String text) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1));
        while (buffer.hasRemaining()) {
            client.write(buffer);
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        if (folder != null) {
            Files.deleteIfExists(folder.resolve("spamd.sock"));
            Files.deleteIfExists(folder);
        }
    }
}
