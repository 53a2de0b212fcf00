package org.postern.smtp.client;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A scripted SMTP/LMTP server on loopback or a Unix socket for the client's tests: one thread per connection,
 * answers set by the test, and a record of what it was sent.
 */
final class FakeServer implements AutoCloseable {
    /** Every command line, as {@code <connection number> <line>}. */
    final List<String> commands = new CopyOnWriteArrayList<>();
    /** Each message received, un-stuffed. */
    final List<String> messages = new CopyOnWriteArrayList<>();
    /** Each message as it came over the wire, with the final dot. */
    final List<String> wire = new CopyOnWriteArrayList<>();
    /** Commands that came while the reply to an earlier one was not yet sent, without PIPELINING offered. */
    final List<String> pipelinedUnasked = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();
    /** Connections that said STARTTLS and completed the handshake. */
    final AtomicInteger tlsSessions = new AtomicInteger();

    volatile String greeting = "220 fake.example ESMTP";
    volatile List<String> extensions = List.of("PIPELINING", "SIZE 10000000", "8BITMIME", "ENHANCEDSTATUSCODES");
    volatile Function<String, String> mail = sender -> "250 2.1.0 Ok";
    volatile Function<String, String> rcpt = recipient -> "250 2.1.5 Ok";
    volatile String dataEnd = "250 2.0.0 Ok: queued as FAKE1";
    /** LMTP: the reply after the final dot for each accepted recipient. */
    volatile Function<String, String> lmtpReply = recipient -> "250 2.0.0 <" + recipient + "> delivered";
    /** Set: STARTTLS is offered with this context. */
    volatile SSLContext tls;
    /** What the server sends after its 220 to STARTTLS, before the handshake (an injection attack). */
    volatile String afterStartTls = "";
    /** Makes STARTTLS a failure: 220, then the connection is closed without a handshake. */
    volatile boolean brokenTls;
    /** Set: AUTH with these mechanisms, for user "alice", password "secret". */
    volatile List<String> auth = List.of();
    /** False: EHLO and LHLO are unknown commands, as to an RFC 821 server. */
    volatile boolean knowsEhlo = true;
    /** Verbs not answered at all. */
    volatile Set<String> silent = Set.of();
    /** Replies to MAIL..DATA only once DATA arrived: a client that waits for each reply hangs. */
    volatile boolean repliesOnlyAfterData;
    /** Closes the connection instead of answering its second MAIL. */
    volatile boolean dropsSecondMail;

    private final ServerSocket tcp;
    private final ServerSocketChannel unix;
    private final Path socketFile;
    private final List<AutoCloseable> open = Collections.synchronizedList(new ArrayList<>());
    private final boolean lmtp;

    private FakeServer(boolean lmtp, Path socketFile) throws IOException {
        this.lmtp = lmtp;
        this.socketFile = socketFile;
        if (socketFile == null) {
            tcp = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            unix = null;
        } else {
            tcp = null;
            unix = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            unix.bind(UnixDomainSocketAddress.of(socketFile));
        }
        Thread acceptor = new Thread(this::accept, "fake-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    static FakeServer smtp() throws IOException {
        return new FakeServer(false, null);
    }

    static FakeServer lmtp() throws IOException {
        return new FakeServer(true, null);
    }

    static FakeServer lmtp(Path socket) throws IOException {
        return new FakeServer(true, socket);
    }

    int port() {
        return tcp.getLocalPort();
    }

    /** The commands received with this verb, without the connection numbers. */
    List<String> commands(String verb) {
        return commands.stream().map(c -> c.substring(c.indexOf(' ') + 1))
                .filter(c -> c.toUpperCase(Locale.ROOT).startsWith(verb)).toList();
    }

    private void accept() {
        try {
            while (true) {
                Socket socket;
                InputStream in;
                OutputStream out;
                if (tcp != null) {
                    socket = tcp.accept();
                    in = socket.getInputStream();
                    out = socket.getOutputStream();
                } else {
                    SocketChannel channel = unix.accept();
                    socket = null;
                    in = Channels.newInputStream(channel);
                    out = Channels.newOutputStream(channel);
                    open.add(channel);
                }
                if (socket != null) {
                    open.add(socket);
                }
                int number = connections.incrementAndGet();
                Thread session = new Thread(() -> serve(number, socket, in, out), "fake-session-" + number);
                session.setDaemon(true);
                session.start();
            }
        } catch (IOException closed) {
            // the test is over
        }
    }

    private void serve(int number, Socket socket, InputStream rawIn, OutputStream rawOut) {
        Peer peer = new Peer(new BufferedInputStream(rawIn), rawOut);
        try {
            peer.send(greeting);
            int mails = 0;
            List<String> accepted = new ArrayList<>();
            List<String> held = new ArrayList<>();
            boolean secured = false;
            String line;
            while ((line = peer.readLine()) != null) {
                commands.add(number + " " + line);
                String verb = line.split(" ", 2)[0].toUpperCase(Locale.ROOT);
                if (!extensions.contains("PIPELINING") && peer.in.available() > 0 && !verb.equals("QUIT")) {
                    pipelinedUnasked.add(line);
                }
                if (silent.contains(verb)) {
                    continue;
                }
                switch (verb) {
                    case "EHLO", "LHLO" -> {
                        if (!knowsEhlo) {
                            peer.send("502 5.5.2 Error: command not recognized");
                            continue;
                        }
                        List<String> lines = new ArrayList<>(List.of("fake.example"));
                        lines.addAll(extensions);
                        if (tls != null && !secured) {
                            lines.add("STARTTLS");
                        }
                        if (!auth.isEmpty()) {
                            lines.add("AUTH " + String.join(" ", auth));
                        }
                        peer.send(multiline(250, lines));
                    }
                    case "HELO" -> peer.send("250 fake.example");
                    case "STARTTLS" -> {
                        peer.send("220 2.0.0 Ready to start TLS" + afterStartTls);
                        if (brokenTls) {
                            peer.close();
                            return;
                        }
                        SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(socket, "localhost", socket.getPort(), true);
                        ssl.setUseClientMode(false);
                        ssl.startHandshake();
                        peer = new Peer(new BufferedInputStream(ssl.getInputStream()), ssl.getOutputStream());
                        secured = true;
                        tlsSessions.incrementAndGet();
                    }
                    case "AUTH" -> peer.send(authenticate(peer, line));
                    case "MAIL" -> {
                        if (++mails == 2 && dropsSecondMail) {
                            peer.close();
                            return;
                        }
                        accepted.clear();
                        held.add(mail.apply(line.substring(line.indexOf('<') + 1, line.indexOf('>'))));
                    }
                    case "RCPT" -> {
                        String recipient = line.substring(line.indexOf('<') + 1, line.indexOf('>'));
                        String reply = rcpt.apply(recipient);
                        if (reply.startsWith("2")) {
                            accepted.add(recipient);
                        }
                        held.add(reply);
                    }
                    case "DATA" -> {
                        held.add(accepted.isEmpty() ? "554 5.5.1 Error: no valid recipients" : "354 End data with <CR><LF>.<CR><LF>");
                        held.forEach(peer::send);
                        held.clear();
                        if (!accepted.isEmpty()) {
                            if (!readMessage(peer)) {
                                return;
                            }
                            if (lmtp) {
                                for (String recipient : accepted) {
                                    peer.send(lmtpReply.apply(recipient));
                                }
                            } else {
                                peer.send(dataEnd);
                            }
                        }
                    }
                    case "XCLIENT" -> peer.send(extensions.stream().anyMatch(e -> e.startsWith("XCLIENT")) ? greeting
                            : "502 5.5.2 Error: command not recognized");
                    case "RSET" -> {
                        accepted.clear();
                        peer.send("250 2.0.0 Ok");
                    }
                    case "QUIT" -> {
                        peer.send("221 2.0.0 Bye");
                        peer.close();
                        return;
                    }
                    default -> peer.send("502 5.5.2 Error: command not recognized");
                }
                if (!repliesOnlyAfterData && !held.isEmpty()) {
                    held.forEach(peer::send);
                    held.clear();
                }
            }
        } catch (IOException | RuntimeException e) {
            // the client left
        } finally {
            peer.close();
        }
    }

    private String authenticate(Peer peer, String line) throws IOException {
        String[] words = line.split(" ");
        String decoded;
        if (words[1].equalsIgnoreCase("PLAIN")) {
            decoded = new String(Base64.getDecoder().decode(words[2]), StandardCharsets.UTF_8);
        } else {
            peer.send("334 VXNlcm5hbWU6");
            String user = new String(Base64.getDecoder().decode(peer.readLine()), StandardCharsets.UTF_8);
            peer.send("334 UGFzc3dvcmQ6");
            decoded = "\0" + user + "\0" + new String(Base64.getDecoder().decode(peer.readLine()), StandardCharsets.UTF_8);
        }
        commands.add("0 credentials " + decoded.replace('\0', '|'));
        return decoded.equals("\0alice\0secret") ? "235 2.7.0 Authentication successful" : "535 5.7.8 Error: authentication failed";
    }

    /** Reads DATA up to the final dot; false when the connection ended first. */
    private boolean readMessage(Peer peer) throws IOException {
        StringBuilder content = new StringBuilder();
        StringBuilder raw = new StringBuilder();
        String line;
        while ((line = peer.readLine()) != null) {
            raw.append(line).append("\r\n");
            if (line.equals(".")) {
                messages.add(content.toString());
                wire.add(raw.toString());
                return true;
            }
            content.append(line.startsWith(".") ? line.substring(1) : line).append("\r\n");
        }
        return false;
    }

    private static String multiline(int code, List<String> lines) {
        StringBuilder reply = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            reply.append(code).append(i + 1 < lines.size() ? '-' : ' ').append(lines.get(i));
            if (i + 1 < lines.size()) {
                reply.append("\r\n");
            }
        }
        return reply.toString();
    }

    @Override
    public void close() throws IOException {
        if (tcp != null) {
            tcp.close();
        } else {
            unix.close();
            Files.deleteIfExists(socketFile);
        }
        synchronized (open) {
            for (AutoCloseable closeable : open) {
                try {
                    closeable.close();
                } catch (Exception ignored) {
                    // already closed
                }
            }
        }
    }

    /** One side of a connection: lines in, replies out. */
    private static final class Peer {
        final InputStream in;
        final OutputStream out;

        Peer(InputStream in, OutputStream out) {
            this.in = in;
            this.out = out;
        }

        /** A line without its CRLF, ISO-8859-1 so that each octet stays one char; null at the end. */
        String readLine() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                if (b == '\n') {
                    String text = line.toString(StandardCharsets.ISO_8859_1);
                    return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text + "<bare LF>";
                }
                line.write(b);
            }
            return null;
        }

        void send(String reply) {
            try {
                out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        void close() {
            try {
                in.close();
                out.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }
}
