package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real p0f on the loopback interface (capturing needs root), its API socket in a folder others may traverse
 * (qpsmtpd runs as its own user when the tests run as root; p0f makes the socket 0666) and its log of every
 * fingerprint, which the tests read as p0f's own word.
 */
final class P0f implements AutoCloseable {
    final Path folder;
    final Path socket;
    private final Path log;
    private Process process;

    private P0f(Path folder) {
        this.folder = folder;
        this.socket = folder.resolve("p0f.sock");
        this.log = folder.resolve("p0f.log");
    }

    static P0f start() throws Exception {
        P0f p0f = new P0f(Files.createTempDirectory("p0f", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x"))));
        p0f.run();
        return p0f;
    }

    /** Starts p0f and waits until its API socket is there and its capture has begun. */
    void run() throws Exception {
        process = new ProcessBuilder("/usr/sbin/p0f", "-i", "lo", "-s", socket.toString(), "-o", log.toString(), "tcp")
                .redirectErrorStream(true).redirectOutput(folder.resolve("p0f.out").toFile()).start();
        long deadline = System.currentTimeMillis() + 20_000;
        while (!Files.readString(folder.resolve("p0f.out")).contains("Entered main event loop")) {
            if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                close();
                throw new AssertionError("p0f did not start (it needs root to capture on lo):\n" + Files.readString(folder.resolve("p0f.out")));
            }
            Thread.sleep(50);
        }
    }

    /**
     * The OS p0f's log names for the SYN of the client at {@code address} ({@code os=} of its {@code mod=syn} line),
     * waiting up to 10 s for it.
     */
    String osOf(String address) throws Exception {
        Pattern syn = Pattern.compile("\\] mod=syn\\|cli=" + Pattern.quote(address) + "/\\d+\\|srv=[^|]+\\|subj=cli\\|os=([^|]*)\\|");
        long deadline = System.currentTimeMillis() + 10_000;
        do {
            Matcher line = syn.matcher(Files.exists(log) ? Files.readString(log) : "");
            if (line.find()) {
                return line.group(1);
            }
            Thread.sleep(50);
        } while (System.currentTimeMillis() < deadline);
        List<String> lines = Files.readAllLines(log);
        throw new AssertionError("p0f logged no SYN from " + address + "; its last lines:\n"
                + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size())));
    }

    /** Sends p0f a signal by its process id: STOP stalls it as an overloaded daemon, CONT lets it go on. */
    void signal(String name) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start().waitFor());
    }

    /** Stops p0f, as an administrator or a crash would take it away. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
