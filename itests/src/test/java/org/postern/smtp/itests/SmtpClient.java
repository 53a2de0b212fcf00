package org.postern.smtp.itests;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A deliberately plain SMTP client over a real socket, to send exactly the bytes a test needs. */
public final class SmtpClient implements AutoCloseable {
    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;
    private String lastReply;

    public SmtpClient(int port) throws IOException {
        this(port, null);
    }

    /** Connects from the given local address (any of 127.0.0.0/8 works on Linux), to be another client. */
    public SmtpClient(int port, String localAddress) throws IOException {
        socket = new Socket();
        if (localAddress != null) {
            socket.bind(new InetSocketAddress(localAddress, 0));
        }
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(15_000);
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
        out = socket.getOutputStream();
    }

    /**
     * Connects and opens a transaction: greeting, {@code EHLO client.example}, {@code MAIL FROM:<a@example.org>},
     * {@code RCPT TO:<b@example.org>}. {@link #lastReply()} is then the RCPT reply.
     */
    public static SmtpClient inTransaction(int port) throws IOException {
        SmtpClient client = new SmtpClient(port);
        client.reply();
        client.command("EHLO client.example");
        client.command("MAIL FROM:<a@example.org>");
        client.command("RCPT TO:<b@example.org>");
        return client;
    }

    /** The last reply read. */
    public String lastReply() {
        return lastReply;
    }

    /** Reads one whole reply (all its lines); null when the server closed the connection. */
    public String reply() throws IOException {
        List<String> lines = new ArrayList<>();
        String line;
        while ((line = in.readLine()) != null) {
            lines.add(line);
            if (line.length() < 4 || line.charAt(3) != '-') {
                lastReply = String.join("\n", lines);
                return lastReply;
            }
        }
        lastReply = lines.isEmpty() ? null : String.join("\n", lines);
        return lastReply;
    }

    /** Sends a command (CRLF added) and reads its reply. */
    public String command(String line) throws IOException {
        send(line + "\r\n");
        return reply();
    }

    public void send(String raw) throws IOException {
        out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** True when the server closes the connection (EOF, nothing more to read) within the time given. */
    public boolean closedByServerWithin(int millis) throws IOException {
        int before = socket.getSoTimeout();
        socket.setSoTimeout(millis);
        try {
            return in.readLine() == null;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        } finally {
            if (!socket.isClosed()) {
                socket.setSoTimeout(before);
            }
        }
    }

    public void setTimeoutMillis(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
