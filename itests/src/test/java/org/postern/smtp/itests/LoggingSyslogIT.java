package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * logging/syslog sends a real session's lines to a real syslog receiver: Debian's rsyslogd, run by the test on free
 * loopback ports for UDP and TCP, writing what it parsed to a file. Two instances of the plugin (factory
 * configurations) send one over each transport, with their own facility and ident. A refused recipient makes the
 * core log an INFO line, which must arrive through both. qpsmtpd's plugin writes through Sys::Syslog to the local
 * syslog, which a test cannot redirect, so there is no side-by-side comparison.
 */
public class LoggingSyslogIT {
    /** What rsyslogd writes per message: the fields it parsed from the RFC 5424 header, then the text. */
    private static final String TEMPLATE = "%pri%|%app-name%|%procid%|%hostname%|%timereported:::date-rfc3339%|%msg%\\n";
    private static final Pattern LINE = Pattern.compile("(\\d+)\\|(\\S+)\\|(\\d+)\\|(\\S+)\\|(\\S+)\\|(.*)");
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Rsyslog rsyslog;
    private static ServerProcess postern;

    /** rsyslogd in the foreground, with its own configuration, work folder and output file. */
    private static final class Rsyslog implements AutoCloseable {
        final Path base;
        final int udpPort;
        final int tcpPort;
        private Process process;

        Rsyslog(Path base, int udpPort, int tcpPort) {
            this.base = base;
            this.udpPort = udpPort;
            this.tcpPort = tcpPort;
        }

        void start() throws Exception {
            Files.writeString(base.resolve("rsyslog.conf"), "global(workDirectory=\"" + base + "\")\n"
                    + "module(load=\"imudp\")\nmodule(load=\"imtcp\")\n"
                    + "input(type=\"imudp\" address=\"127.0.0.1\" port=\"" + udpPort + "\")\n"
                    + "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" + tcpPort + "\")\n"
                    + "template(name=\"fields\" type=\"string\" string=\"" + TEMPLATE + "\")\n"
                    + "action(type=\"omfile\" file=\"" + base.resolve("received.log") + "\" template=\"fields\")\n");
            Files.deleteIfExists(base.resolve("rsyslogd.pid"));
            process = new ProcessBuilder("rsyslogd", "-n", "-f", base.resolve("rsyslog.conf").toString(),
                    "-i", base.resolve("rsyslogd.pid").toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(base.resolve("rsyslogd.out").toFile()))
                    .start();
            long deadline = System.currentTimeMillis() + 10_000;
            while (!listens(tcpPort)) {
                assertTrue("rsyslogd exited: " + output(), process.isAlive());
                assertTrue("rsyslogd does not listen on " + tcpPort + " within 10 s: " + output(), System.currentTimeMillis() < deadline);
                Thread.sleep(50);
            }
        }

        private static boolean listens(int port) {
            try (java.net.Socket probe = new java.net.Socket("127.0.0.1", port)) {
                return true;
            } catch (IOException notYet) {
                return false;
            }
        }

        String output() throws IOException {
            Path out = base.resolve("rsyslogd.out");
            return Files.exists(out) ? Files.readString(out) : "";
        }

        /** The messages rsyslogd received so far, as it parsed them. */
        List<String> received() throws IOException {
            Path file = base.resolve("received.log");
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        }

        @Override
        public void close() throws InterruptedException {
            if (process != null) {
                process.destroy();
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
        }
    }

    @BeforeClass
    public static void start() throws Exception {
        rsyslog = new Rsyslog(Files.createTempDirectory("rsyslog"), freeUdpPort(), freeTcpPort());
        rsyslog.start();
        postern = SERVERS.add(ServerProcess.posternWithPlugins("logging-syslog", Map.of(
                "org.postern.smtp.plugin.logging.syslog-udp.cfg", "port = " + rsyslog.udpPort
                        + "\nloglevel = LOGINFO\nfacility = LOG_LOCAL0\nident = postern-udp",
                "org.postern.smtp.plugin.logging.syslog-tcp.cfg", "logsock = tcp\nport = " + rsyslog.tcpPort
                        + "\nloglevel = LOGINFO\nfacility = LOG_LOCAL1\nident = postern-tcp"),
                List.of("plugin-logging-syslog"))).awaitPlugin("logging/syslog:udp").awaitPlugin("logging/syslog:tcp");
    }

    @AfterClass
    public static void stopReceiver() throws Exception {
        if (rsyslog != null) {
            rsyslog.close();
        }
    }

    @Test
    public void aSessionsLinesArriveOverUdpAndTcp() throws Exception {
        String recipient = refuseRecipient("both");
        // local0 (16) * 8 + info (6); local1 (17) * 8 + info (6)
        assertArrived(recipient, "postern-udp", "134");
        assertArrived(recipient, "postern-tcp", "142");
        assertTrue("the server log keeps the line too", postern.log().contains("RCPT TO <" + recipient + "> not accepted"));
    }

    @Test
    public void aTcpReceiverThatRestartedGetsTheLinesAfterIt() throws Exception {
        rsyslog.close();
        long started = System.nanoTime();
        refuseRecipient("while-down");
        long sessionMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue("a session with the receiver down took " + sessionMillis + " ms", sessionMillis < 2000);
        rsyslog.start();
        // the plugin tries again within its pause of 5 s; each session's line is dropped or sent, never held
        long deadline = System.currentTimeMillis() + 20_000;
        for (int attempt = 0; System.currentTimeMillis() < deadline; attempt++) {
            String recipient = refuseRecipient("after-restart-" + attempt);
            if (waitFor(recipient, "postern-tcp", 1000).isPresent()) {
                assertTrue(postern.log(), postern.log().contains("takes messages again"));
                return;
            }
        }
        throw new AssertionError("no TCP message after rsyslogd restarted within 20 s; received " + rsyslog.received()
                + "\nserver log:\n" + postern.log());
    }

    /** Runs a session whose recipient (unique to the caller) is refused, which the core logs at INFO. */
    private static String refuseRecipient(String label) throws Exception {
        String recipient = label + "-" + System.nanoTime() + "@elsewhere.example";
        try (SmtpClient client = new SmtpClient(postern.port)) {
            client.reply();
            client.command("EHLO client.example");
            client.command("MAIL FROM:<sender@example.org>");
            assertTrue(client.lastReply(), client.command("RCPT TO:<" + recipient + ">").startsWith("5"));
            client.command("QUIT");
        }
        return recipient;
    }

    private static void assertArrived(String recipient, String ident, String priority) throws Exception {
        Matcher fields = waitFor(recipient, ident, 10_000).orElseThrow(() -> new AssertionError(
                "no message from " + ident + " about " + recipient + " within 10 s; received " + receivedOrError()));
        assertEquals(fields.group(0), priority, fields.group(1));
        assertTrue(fields.group(0), fields.group(6).matches("session \\S+: RCPT TO <" + Pattern.quote(recipient) + "> not accepted.*"));
    }

    private static String receivedOrError() {
        try {
            return rsyslog.received() + "\nrsyslogd: " + rsyslog.output();
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** The message rsyslogd parsed from this ident about this recipient, once it is there. */
    private static Optional<Matcher> waitFor(String recipient, String ident, long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        do {
            for (String line : rsyslog.received()) {
                Matcher fields = LINE.matcher(line);
                if (fields.matches() && fields.group(2).equals(ident) && fields.group(6).contains("<" + recipient + ">")) {
                    return Optional.of(fields);
                }
            }
            Thread.sleep(50);
        } while (System.currentTimeMillis() < deadline);
        return Optional.empty();
    }

    private static int freeUdpPort() throws IOException {
        try (DatagramSocket socket = new DatagramSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static int freeTcpPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
