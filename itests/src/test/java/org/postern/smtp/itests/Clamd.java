package org.postern.smtp.itests;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * A real clamd (Debian's clamav-daemon) for tests, with a signature database of its own, since freshclam cannot
 * download any here: one body signature for the EICAR test string. It listens on a loopback port and on a Unix socket
 * in its folder, which others may traverse (qpsmtpd runs as its own user when the tests run as root).
 */
final class Clamd implements AutoCloseable {
    /** The EICAR anti-virus test file, which every scanner detects and which harms nothing. */
    static final String EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
    /** The name clamd reports for the signature: it marks signatures from outside ClamAV's own databases. */
    static final String SIGNATURE = "Eicar-Test-Signature.UNOFFICIAL";

    final Path folder;
    final Path socket;
    final int port;
    private Process process;

    private Clamd(Path folder, int port) {
        this.folder = folder;
        this.socket = folder.resolve("clamd.ctl");
        this.port = port;
    }

    /** Starts clamd with this StreamMaxLength (clamd.conf's size syntax, e.g. {@code 10M}) and waits until it answers. */
    static Clamd start(String streamMaxLength) throws Exception {
        Path folder = Files.createTempDirectory("clamd", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.writeString(folder.resolve("test.ndb"), "Eicar-Test-Signature:0:*:"
                + HexFormat.of().formatHex(EICAR.getBytes(StandardCharsets.US_ASCII)) + "\n");
        Clamd clamd = new Clamd(folder, ServerProcess.freePort());
        Files.writeString(folder.resolve("clamd.conf"), String.join("\n",
                "DatabaseDirectory " + folder,
                "TCPAddr 127.0.0.1",
                "TCPSocket " + clamd.port,
                "LocalSocket " + clamd.socket,
                "LocalSocketMode 666",
                "StreamMaxLength " + streamMaxLength,
                "Foreground yes",
                "LogFile " + folder.resolve("clamd.log"),
                ""));
        clamd.run();
        return clamd;
    }

    private void run() throws Exception {
        process = new ProcessBuilder("/usr/sbin/clamd", "--config-file=" + folder.resolve("clamd.conf"))
                .redirectErrorStream(true).redirectOutput(folder.resolve("clamd.out").toFile()).start();
        long deadline = System.currentTimeMillis() + 60_000;
        while (!answers("zPING\0").equals("PONG\0") || !Files.exists(socket)) {
            if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                close();
                throw new AssertionError("clamd did not start:\n" + Files.readString(folder.resolve("clamd.out")));
            }
            Thread.sleep(100);
        }
    }

    /** The engine, as clamd's VERSION names it before the first slash ({@code ClamAV 1.4.6}). */
    String engine() throws IOException {
        return answers("zVERSION\0").replace("\0", "").split("/", 2)[0];
    }

    private String answers(String command) throws IOException {
        try (Socket connection = new Socket()) {
            connection.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            connection.setSoTimeout(5000);
            connection.getOutputStream().write(command.getBytes(StandardCharsets.US_ASCII));
            InputStream in = connection.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException notYet) {
            return "";
        }
    }

    /** Stops clamd, as an administrator or a crash would take it away. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    /** Starts clamd again on the same port and socket. */
    void restart() throws Exception {
        run();
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
