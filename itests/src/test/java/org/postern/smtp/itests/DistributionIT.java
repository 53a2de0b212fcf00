package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.After;
import org.junit.Test;

/**
 * The standalone distribution as an administrator runs it: {@code bin/postern --etc --data}, driven by real
 * clients (swaks and Python's smtplib), with a second instance beside the first.
 */
public class DistributionIT {
    private static final Path HOME = Path.of(System.getProperty("postern.home"));
    private final List<Process> servers = new ArrayList<>();

    @After
    public void stopServers() throws InterruptedException {
        for (Process server : servers) {
            server.destroy();
            if (!server.waitFor(20, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    /** An instance with its own etc/ (the defaults, on another port) and data/; returns its port. */
    private Instance startInstance(String name) throws Exception {
        Path base = Files.createTempDirectory("postern-" + name);
        Path etc = Files.createDirectories(base.resolve("etc"));
        Path data = base.resolve("data");
        int port = freePort();
        try (Stream<Path> defaults = Files.list(HOME.resolve("etc"))) {
            for (Path file : defaults.toList()) {
                String text = Files.readString(file).replace("listen = 127.0.0.1:2525", "listen = 127.0.0.1:" + port);
                Files.writeString(etc.resolve(file.getFileName()), text);
            }
        }
        Process server = new ProcessBuilder(HOME.resolve("bin/postern").toString(), "--etc", etc.toString(),
                "--data", data.toString(), "--deploy", base.resolve("deploy").toString())
                .redirectErrorStream(true)
                .redirectOutput(base.resolve("postern.log").toFile())
                .start();
        servers.add(server);
        long started = System.nanoTime();
        awaitGreeting(port, server, base.resolve("postern.log"));
        System.out.printf("instance %s: start to first 220 greeting in %d ms%n", name,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        return new Instance(port, data);
    }

    private record Instance(int port, Path data) {
        List<Path> delivered() throws IOException {
            Path fresh = data.resolve("maildir/new");
            if (!Files.isDirectory(fresh)) {
                return List.of();
            }
            try (Stream<Path> files = Files.list(fresh)) {
                return files.toList();
            }
        }
    }

    @Test
    public void swaksDeliversIntoTheMaildirOfTheDataFolder() throws Exception {
        Instance instance = startInstance("swaks");
        String output = run(0, "swaks", "--server", "127.0.0.1:" + instance.port(), "--from", "a@example.org",
                "--to", "postmaster@localhost", "--header", "Subject: from swaks", "--body", "Hello from swaks.\n.dot line");
        assertTrue(output, output.contains("<-  250 2.0.0 Queued as "));
        List<Path> delivered = instance.delivered();
        assertEquals(1, delivered.size());
        String message = Files.readString(delivered.get(0), StandardCharsets.ISO_8859_1);
        assertTrue(message, message.contains("Subject: from swaks\n"));
        assertTrue(message, message.contains("Hello from swaks.\n.dot line\n"));

        // swaks exits with 24 when the server refuses every recipient
        String refused = run(24, "swaks", "--server", "127.0.0.1:" + instance.port(), "--from", "a@example.org",
                "--to", "someone@not-local.example", "--quit-after", "RCPT");
        assertTrue(refused, refused.contains("<** 450 4.7.1 No plugin decided if relaying is allowed"));
    }

    @Test
    public void pythonSmtplibAndASecondInstanceSideBySide() throws Exception {
        Instance first = startInstance("first");
        Instance second = startInstance("second");
        String script = String.join("\n",
                "import smtplib, sys",
                "from email.message import EmailMessage",
                "for port in sys.argv[1:]:",
                "    msg = EmailMessage()",
                "    msg['From'] = 'sender@example.org'",
                "    msg['To'] = 'postmaster@localhost'",
                "    msg['Subject'] = 'smtplib to ' + port",
                "    msg.set_content('caf\\u00e9 \\u2014 8-bit body\\n')",
                "    with smtplib.SMTP('127.0.0.1', int(port), timeout=20) as smtp:",
                "        smtp.ehlo('python.example')",
                "        assert smtp.has_extn('pipelining') and smtp.has_extn('8bitmime') and smtp.has_extn('size')",
                "        refused = smtp.send_message(msg)",
                "        assert not refused, refused",
                "print('sent')");
        String output = run(0, "python3", "-c", script, Integer.toString(first.port()), Integer.toString(second.port()));
        assertTrue(output, output.trim().endsWith("sent"));
        assertEquals(1, first.delivered().size());
        assertEquals(1, second.delivered().size());
        String message = Files.readString(second.delivered().get(0), StandardCharsets.UTF_8);
        assertTrue(message, message.contains("Subject: smtplib to " + second.port()));
    }

    /** Runs a real client; checks its exit status and returns what it printed. */
    private static String run(int expectedExit, String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(String.join(" ", command) + " timed out", process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(output, expectedExit, process.exitValue());
        return output;
    }

    private static void awaitGreeting(int port, Process server, Path log) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            if (!server.isAlive()) {
                throw new AssertionError("postern exited early:\n" + Files.readString(log));
            }
            try (Socket socket = new Socket("127.0.0.1", port)) {
                byte[] greeting = new byte[3];
                if (socket.getInputStream().readNBytes(greeting, 0, 3) == 3 && new String(greeting, StandardCharsets.US_ASCII).equals("220")) {
                    return;
                }
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("no 220 greeting on port " + port + " within 30 s:\n" + Files.readString(log));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    static {
        if (!new File(System.getProperty("postern.home"), "bin/postern").canExecute()) {
            throw new IllegalStateException("build the distribution first: " + System.getProperty("postern.home"));
        }
    }
}
