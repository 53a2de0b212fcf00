package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
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
}
