package org.postern.smtp.itests;

import java.io.File;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Debian's spamd for tests, local tests only, on a loopback port and a Unix socket in its folder, with per-user
 * preferences in {@code users/<user>/user_prefs} (spamd's virtual config dir); it runs as nobody when the tests run as
 * root, so its folders are open to others.
 */
final class Spamd implements AutoCloseable {
    final int port;
    final Path socket;
    private final Path log;
    private final Process process;

    private Spamd(int port, Path socket, Path log, Process process) {
        this.port = port;
        this.socket = socket;
        this.log = log;
        this.process = process;
    }

    /** Starts spamd with these users' preferences (user → user_prefs lines) and waits until it answers PING. */
    static Spamd start(Map<String, String> userPrefs) throws Exception {
        Path folder = Files.createTempDirectory("spamd");
        openToOthers(folder);
        openToOthers(Files.createDirectories(folder.resolve("users")));
        for (Map.Entry<String, String> prefs : userPrefs.entrySet()) {
            Path user = Files.createDirectories(folder.resolve("users").resolve(prefs.getKey()));
            openToOthers(user);
            openToOthers(Files.writeString(user.resolve("user_prefs"), prefs.getValue()));
        }
        int port = ServerProcess.freePort();
        Path socket = folder.resolve("spamd.sock");
        Path log = folder.resolve("spamd.log");
        String user = System.getProperty("user.name");
        Process process = new ProcessBuilder(new File("/usr/sbin/spamd").canExecute() ? "/usr/sbin/spamd" : "spamd",
                "--listen=127.0.0.1:" + port, "--listen=" + socket, "--socketmode=0777", "--max-children=2", "--local",
                "--nouser-config", "--virtual-config-dir=" + folder.resolve("users") + "/%u",
                "--username=" + ("root".equals(user) ? "nobody" : user), "--syslog=stderr", "--pidfile=" + folder.resolve("spamd.pid"))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Spamd spamd = new Spamd(port, socket, log, process);
        spamd.awaitPong();
        return spamd;
    }

    private static void openToOthers(Path path) {
        File file = path.toFile();
        file.setReadable(true, false);
        file.setWritable(true, false);
        file.setExecutable(true, false);
    }

    private void awaitPong() throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            try (Socket connection = new Socket("127.0.0.1", port)) {
                connection.getOutputStream().write("PING SPAMC/1.5\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                if (new String(connection.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).contains("PONG")) {
                    return;
                }
            } catch (IOException notYet) {
                // spamd compiles its rules first
            }
            if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                throw new AssertionError("spamd did not answer PING:\n" + Files.readString(log));
            }
            Thread.sleep(200);
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(20, TimeUnit.SECONDS);
    }
}
