package org.postern.smtp.plugin.queue.spool.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A small SMTP server on 127.0.0.1 for tests, one command at a time (no PIPELINING, no STARTTLS): each RCPT is
 * answered by the test's function of the address, every other command as a willing server would. Each message it
 * takes is a {@link Received}.
 */
final class FakeSmtpServer implements AutoCloseable {
    /** A message the server took: MAIL's path, the accepted RCPT paths, the data without the final dot. */
    record Received(String sender, List<String> recipients, String data) {
    }

    private final ServerSocket socket;
    private final Function<String, String> rcptReplies;
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final Thread acceptor;

    FakeSmtpServer(Function<String, String> rcptReplies) throws IOException {
        this.socket = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        this.rcptReplies = rcptReplies;
        this.acceptor = new Thread(this::acceptAll, "fake-smtp-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return socket.getLocalPort();
    }

    /** The next message taken, waited for up to 10 s. */
    Received next() throws InterruptedException {
        Received message = received.poll(10, TimeUnit.SECONDS);
        if (message == null) {
            throw new AssertionError("no message taken within 10 s");
        }
        return message;
    }

    private void acceptAll() {
        while (!socket.isClosed()) {
            try {
                Socket client = socket.accept();
                Thread session = new Thread(() -> converse(client), "fake-smtp-session");
                session.setDaemon(true);
                session.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void converse(Socket client) {
        try (client; BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.ISO_8859_1))) {
            OutputStream out = client.getOutputStream();
            reply(out, "220 fake.test ESMTP");
            String sender = null;
            List<String> recipients = new ArrayList<>();
            String line;
            while ((line = in.readLine()) != null) {
                String command = line.toUpperCase(Locale.ROOT);
                if (command.startsWith("EHLO") || command.startsWith("HELO") || command.startsWith("LHLO")) {
                    reply(out, "250 fake.test");
                } else if (command.startsWith("MAIL FROM:")) {
                    sender = path(line);
                    recipients.clear();
                    reply(out, "250 2.1.0 Ok");
                } else if (command.startsWith("RCPT TO:")) {
                    String answer = rcptReplies.apply(path(line));
                    if (answer.startsWith("2")) {
                        recipients.add(path(line));
                    }
                    reply(out, answer);
                } else if (command.equals("DATA")) {
                    reply(out, "354 End data with <CR><LF>.<CR><LF>");
                    StringBuilder data = new StringBuilder();
                    while (!(line = in.readLine()).equals(".")) {
                        data.append(line.startsWith(".") ? line.substring(1) : line).append("\r\n");
                    }
                    received.add(new Received(sender, List.copyOf(recipients), data.toString()));
                    reply(out, "250 2.0.0 Ok: queued as FAKE1");
                } else if (command.equals("QUIT")) {
                    reply(out, "221 2.0.0 Bye");
                    return;
                } else {
                    reply(out, "250 2.0.0 Ok");
                }
            }
        } catch (IOException gone) {
            // the client went away
        }
    }

    private static String path(String command) {
        return command.substring(command.indexOf('<') + 1, command.indexOf('>'));
    }

    private static void reply(OutputStream out, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
