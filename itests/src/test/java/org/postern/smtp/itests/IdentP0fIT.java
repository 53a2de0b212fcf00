package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * ident/p0f against a real p0f 3 (Debian's p0f), started once for the class, as root, capturing on the loopback
 * interface, with its API socket and its own log: through the distribution, side by side with qpsmtpd 0.94's plugin on
 * the same socket. Each test's clients connect from a loopback address of their own (127.0.0.x), one p0f has not seen
 * before, so each answer comes from that client's SYN. p0f's log says what it made of each client: the oracle.
 */
public class IdentP0fIT {
    private static final String CFG = "org.postern.smtp.plugin.ident.p0f.cfg";

    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static P0f p0f;
    private static ServerProcess postern;
    private static ServerProcess qpsmtpd;

    @BeforeClass
    public static void startP0fAndServers() throws Exception {
        p0f = P0f.start();
        // without the reverse DNS lookup before connect, p0f is asked at once, and greetings wait for nothing else
        postern = SERVERS.add(ServerProcess.posternWithPlugins("ident-p0f", Map.of(
                ServerProcess.SERVER_CFG, "remote.host.lookup = false",
                CFG, "p0f_socket = " + p0f.socket + "\nsmite_os = ^linux\ntimeout.ms = 500"), List.of("plugin-ident-p0f")))
                .awaitPlugin("ident/p0f");
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of("loglevel", "6\n"),
                "ident/p0f " + p0f.socket + " smite_os ^linux"));
    }

    @AfterClass
    public static void stopP0f() throws InterruptedException {
        if (p0f != null) {
            p0f.close();
        }
    }

    /** Connects from {@code clientAddress}, takes the greeting and quits; returns how long the greeting took. */
    private static long greetedAfterMillis(ServerProcess server, String clientAddress) throws IOException {
        long start = System.nanoTime();
        try (SmtpClient client = new SmtpClient(server.port, clientAddress)) {
            String greeting = client.reply();
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(String.valueOf(greeting), greeting != null && greeting.startsWith("220 "));
            client.command("QUIT");
            return millis;
        }
    }

    /**
     * Waits up to 10 s for the server's log, from character {@code from} on (its length before a test's connections),
     * to have a line matching {@code pattern}; returns that line.
     */
    private static String awaitLogLine(ServerProcess server, int from, String pattern) throws Exception {
        Pattern line = Pattern.compile("^.*" + pattern + ".*$", Pattern.MULTILINE);
        long deadline = System.currentTimeMillis() + 10_000;
        do {
            Matcher found = line.matcher(server.log().substring(from));
            if (found.find()) {
                return found.group();
            }
            Thread.sleep(50);
        } while (System.currentTimeMillis() < deadline);
        throw new AssertionError("no line matching " + pattern + " in the log:\n" + server.log().substring(from));
    }

    @Test
    public void aLoopbackClientIsNotedWithTheOsP0fSawAndSmittenByItsLinuxGenreAsByQpsmtpd() throws Exception {
        int posternFrom = postern.log().length();
        int qpsmtpdFrom = qpsmtpd.log().length();
        greetedAfterMillis(postern, "127.0.0.21");
        greetedAfterMillis(qpsmtpd, "127.0.0.22");

        String os = p0f.osOf("127.0.0.21");
        assertTrue(os, os.startsWith("Linux "));
        assertEquals(os, p0f.osOf("127.0.0.22"));
        String line = awaitLogLine(postern, posternFrom, "\\[ident/p0f connect\\]: " + Pattern.quote(os) + "$");
        String session = line.replaceFirst(".* session (\\S+) \\[.*", "$1");
        awaitLogLine(postern, posternFrom, "session " + Pattern.quote(session) + " \\[ident/p0f connect\\]: karma -1 \\(-1\\)$");
        awaitLogLine(qpsmtpd, qpsmtpdFrom, "ident::p0f: " + Pattern.quote(os) + "$");
        awaitLogLine(qpsmtpd, qpsmtpdFrom, "ident::p0f: karma -1 \\(-1\\)$");
    }

    @Test
    public void theHealthCheckShowsP0fAnswering() throws Exception {
        String peer = "p0f " + p0f.socket;
        Health.Page page = Health.await(postern, peer, answer -> answer.body().contains("Postern peer: " + peer));
        assertEquals(page.body(), 1, page.lines("OK Postern peer: " + peer + ": " + peer + " answered: status 0x"));
    }

    @Test
    public void withP0fStalledTheGreetingWaitsTheTimeoutAndNoLonger() throws Exception {
        int from = postern.log().length();
        p0f.signal("STOP");
        long millis;
        try {
            millis = greetedAfterMillis(postern, "127.0.0.31");
        } finally {
            p0f.signal("CONT");
        }
        assertTrue("greeted after " + millis + " ms", millis >= 500 && millis < 3000);
        awaitLogLine(postern, from, "\\[ident/p0f connect\\]: skip, p0f at " + Pattern.quote(p0f.socket.toString())
                + " did not answer within 500 ms$");
    }

    @Test
    public void withP0fStoppedTheClientIsWelcomedAndWhenItIsBackFingerprintedAgain() throws Exception {
        int from = postern.log().length();
        p0f.stop();
        try {
            long millis = greetedAfterMillis(postern, "127.0.0.41");
            assertTrue("greeted after " + millis + " ms", millis < 3000);
            awaitLogLine(postern, from, "\\[ident/p0f connect\\]: skip, could not open socket: Connection refused: "
                    + Pattern.quote(p0f.socket.toString()) + "$");
        } finally {
            p0f.run();
        }
        from = postern.log().length();
        greetedAfterMillis(postern, "127.0.0.42");
        awaitLogLine(postern, from, "\\[ident/p0f connect\\]: " + Pattern.quote(p0f.osOf("127.0.0.42")) + "$");
    }

    /**
     * A real p0f on the loopback interface (capturing needs root), its API socket in a folder others may traverse
     * (qpsmtpd runs as its own user when the tests run as root; p0f makes the socket 0666) and its log of every
     * fingerprint, which the tests read as p0f's own word.
     */
    static final class P0f implements AutoCloseable {
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
}
