package org.postern.smtp.plugin.milter.internal;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A stand-in for a milter on a loopback port: each connection runs the script, and every packet the client sent is
 * recorded in {@link #received} (in order, over all connections) with its framing checked.
 */
final class FakeMilter implements AutoCloseable {
    record Packet(char command, byte[] data) {
        List<String> strings() {
            return new MilterReply(command, data).strings();
        }

        @Override
        public String toString() {
            return command + (data.length == 0 ? "" : " " + String.join("|", strings()));
        }
    }

    interface Script {
        void run(Conversation milter) throws Exception;
    }

    final List<Packet> received = Collections.synchronizedList(new ArrayList<>());
    final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final ServerSocket server;
    private final List<Socket> connections = Collections.synchronizedList(new ArrayList<>());

    FakeMilter(Script script) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    connections.add(socket);
                    Thread conversation = new Thread(() -> {
                        try (socket) {
                            script.run(new Conversation(socket));
                        } catch (EOFException closed) {
                            // the client closed the connection: the end of the conversation
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    }, "fake-milter-conversation");
                    conversation.setDaemon(true);
                    conversation.start();
                } catch (IOException closed) {
                    return;
                }
            }
        }, "fake-milter");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** The commands received so far, as text ({@code M <a@example.org>|SIZE=10}), option negotiations and macros left out. */
    List<String> commands() {
        synchronized (received) {
            return received.stream().filter(packet -> packet.command() != 'D' && packet.command() != 'O').map(Packet::toString).toList();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        synchronized (connections) {
            for (Socket socket : connections) {
                socket.close();
            }
        }
    }

    /** One connection: the packets read, the replies written. */
    final class Conversation {
        private final DataInputStream in;
        private final DataOutputStream out;

        Conversation(Socket socket) throws IOException {
            in = new DataInputStream(socket.getInputStream());
            out = new DataOutputStream(socket.getOutputStream());
        }

        Packet read() throws IOException {
            int length = in.readInt();
            if (length < 1 || length > 1 << 20) {
                throw new IOException("bad packet length " + length);
            }
            char command = (char) in.readUnsignedByte();
            byte[] data = in.readNBytes(length - 1);
            Packet packet = new Packet(command, data);
            received.add(packet);
            return packet;
        }

        /** Reads up to the next packet that is not a macro packet. */
        Packet command() throws IOException {
            Packet packet;
            do {
                packet = read();
            } while (packet.command() == 'D');
            return packet;
        }

        /** Answers the option negotiation with these actions and protocol flags. */
        void negotiate(int actions, int protocol) throws IOException {
            negotiate(actions, protocol, new byte[0]);
        }

        /** Answers the option negotiation, with {@code macroLists} (SMFIR_SETSYMLIST's stage and names pairs) after the flags. */
        void negotiate(int actions, int protocol, byte[] macroLists) throws IOException {
            Packet optneg = read();
            if (optneg.command() != 'O') {
                throw new IOException("expected OPTNEG, got " + optneg);
            }
            reply('O', ByteBuffer.allocate(12 + macroLists.length).putInt(6).putInt(actions).putInt(protocol).put(macroLists).array());
        }

        void reply(char code, byte[] data) throws IOException {
            out.writeInt(data.length + 1);
            out.writeByte(code);
            out.write(data);
            out.flush();
        }

        void reply(char code, String... strings) throws IOException {
            reply(code, nulTerminated(strings));
        }

        /** A reply whose data starts with a four-octet index (INSHEADER, CHGHEADER). */
        void replyIndexed(char code, int index, String... strings) throws IOException {
            byte[] text = nulTerminated(strings);
            reply(code, ByteBuffer.allocate(4 + text.length).putInt(index).put(text).array());
        }

        /** Answers CONTINUE to every command but ABORT and QUIT until the end of the body, which it returns unanswered. */
        Packet continueUntilEndOfBody() throws IOException {
            while (true) {
                Packet packet = command();
                if (packet.command() == 'E') {
                    return packet;
                }
                if (packet.command() != 'A' && packet.command() != 'Q') {
                    reply('c');
                }
            }
        }

        /** Reads until the client closes the connection. */
        void drain() throws IOException {
            while (true) {
                read();
            }
        }
    }

    private static byte[] nulTerminated(String... strings) {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        for (String string : strings) {
            text.writeBytes(string.getBytes(StandardCharsets.ISO_8859_1));
            text.write(0);
        }
        return text.toByteArray();
    }
}
