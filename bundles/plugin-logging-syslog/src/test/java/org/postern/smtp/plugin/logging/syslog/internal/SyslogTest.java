package org.postern.smtp.plugin.logging.syslog.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.LoggingContext;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class SyslogTest {
    private static final OffsetDateTime NOW = OffsetDateTime.of(2024, 5, 6, 7, 8, 9, 123_456_789, ZoneOffset.ofHours(2));
    private static final String PID = Long.toString(ProcessHandle.current().pid());

    private final DatagramSocket receiver = udpReceiver();
    private Syslog plugin;

    /** A line of its own session, on a server called mx.example. */
    static LoggingContext line(LogLevel level, String plugin, String hook, String text) {
        return new TestContext().withConfig("me", "mx.example").logging(level, plugin, hook, text);
    }

    private static DatagramSocket udpReceiver() {
        try {
            DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
            socket.setSoTimeout(5000);
            return socket;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterEach
    void close() {
        if (plugin != null) {
            plugin.close();
        }
        receiver.close();
    }

    private Syslog plugin(Map<String, ?> options) {
        if (plugin != null) {
            plugin.close();
        }
        Map<String, Object> config = new HashMap<>(Map.of("host", "127.0.0.1", "port", receiver.getLocalPort()));
        config.putAll(options);
        plugin = new Syslog(TestConfig.of(Syslog.Config.class, config), () -> NOW);
        return plugin;
    }

    /** The next datagram; messages are sent in the order they were logged, so a later one proves earlier ones absent. */
    private String received() throws IOException {
        DatagramPacket packet = new DatagramPacket(new byte[65536], 65536);
        receiver.receive(packet);
        return new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8);
    }

    private static LoggingContext core(LogLevel level, String text) {
        return line(level, "", "", text);
    }

    @Test
    void sendsAWarningAsAnRfc5424MessageAtMailWarning() throws Exception {
        assertEquals(ReturnCode.DECLINED, plugin(Map.of()).onLogging(core(LogLevel.WARN, "disk nearly full")).code());
        // PRI 20 = facility mail (2) * 8 + severity warning (4)
        assertEquals("<20>1 2024-05-06T07:08:09.123+02:00 mx.example qpsmtpd " + PID + " - - session test.1: disk nearly full",
                received());
    }

    @Test
    void namesThePluginAndHookOfAPluginsLine() throws Exception {
        plugin(Map.of()).onLogging(line(LogLevel.ERROR, "rhsbl", "mail", "lookup failed"));
        assertEquals("<19>1 2024-05-06T07:08:09.123+02:00 mx.example qpsmtpd " + PID
                + " - - session test.1 [rhsbl mail]: lookup failed", received());
    }

    @Test
    void leavesOutLinesBelowTheDefaultLevelWarn() throws Exception {
        Syslog syslog = plugin(Map.of());
        assertEquals(ReturnCode.DECLINED, syslog.onLogging(core(LogLevel.NOTICE, "not sent")).code());
        syslog.onLogging(core(LogLevel.EMERG, "sent"));
        assertEquals("<16>1", received().substring(0, 5));
    }

    @Test
    void loglevelTakesQpsmtpdsNamesAndNumbers() throws Exception {
        plugin(Map.of("loglevel", "LOGINFO")).onLogging(core(LogLevel.DEBUG, "debug"));
        plugin.onLogging(core(LogLevel.INFO, "info"));
        assertEquals("<22>1", received().substring(0, 5));

        plugin(Map.of("loglevel", "7")).onLogging(core(LogLevel.DEBUG, "debug"));
        assertEquals("<23>1", received().substring(0, 5));

        plugin(Map.of("loglevel", "LOGERROR")).onLogging(core(LogLevel.WARN, "warn"));
        plugin.onLogging(core(LogLevel.ERROR, "error"));
        assertEquals("<19>1", received().substring(0, 5));

        plugin(Map.of("loglevel", "log_notice")).onLogging(core(LogLevel.INFO, "info"));
        plugin.onLogging(core(LogLevel.NOTICE, "notice"));
        assertEquals("<21>1", received().substring(0, 5));
    }

    @Test
    void anUnknownLoglevelIsWarn() throws Exception {
        Syslog syslog = plugin(Map.of("loglevel", "chatty"));
        syslog.onLogging(core(LogLevel.NOTICE, "notice"));
        syslog.onLogging(core(LogLevel.WARN, "warn"));
        assertEquals("<20>1", received().substring(0, 5));
    }

    @Test
    void priorityFixesTheSeverityOfEveryLine() throws Exception {
        Syslog syslog = plugin(Map.of("priority", "LOG_NOTICE", "loglevel", "LOGDEBUG"));
        syslog.onLogging(core(LogLevel.DEBUG, "debug"));
        assertEquals("<21>1", received().substring(0, 5));
        syslog.onLogging(core(LogLevel.CRIT, "crit"));
        assertEquals("<21>1", received().substring(0, 5));

        plugin(Map.of("priority", "3")).onLogging(core(LogLevel.WARN, "warn"));
        assertEquals("<19>1", received().substring(0, 5));

        plugin(Map.of("priority", "log_err")).onLogging(core(LogLevel.WARN, "warn"));
        assertEquals("<19>1", received().substring(0, 5), "syslog's name of LOGERROR");

        plugin(Map.of("priority", "LOUD")).onLogging(core(LogLevel.WARN, "warn"));
        assertEquals("<20>1", received().substring(0, 5), "an unusable priority leaves each line its own");
    }

    @Test
    void facilityAndIdentNameTheSource() throws Exception {
        plugin(Map.of("facility", "local3", "ident", "postern-mx.1")).onLogging(core(LogLevel.WARN, "warn"));
        String message = received();
        assertEquals("<156>1", message.substring(0, 6), message); // 19 * 8 + 4
        assertEquals("postern-mx.1", message.split(" ")[3]);

        plugin(Map.of("facility", "LOG_NOWHERE", "ident", "two words")).onLogging(core(LogLevel.WARN, "warn"));
        message = received();
        assertEquals("<20>1", message.substring(0, 5), "an unknown facility is mail");
        assertEquals("qpsmtpd", message.split(" ")[3], "an ident qpsmtpd would refuse is qpsmtpd");
    }

    @Test
    void aServerWithoutANameIsANilHostName() throws Exception {
        plugin(Map.of()).onLogging(new TestContext().withConfig("me", "  ").logging(LogLevel.WARN, "", "", "anonymous"));
        assertEquals("-", received().split(" ")[2]);
    }

    @Test
    void cutsALongLineToADatagramEveryReceiverTakes() throws Exception {
        plugin(Map.of()).onLogging(core(LogLevel.WARN, "ä".repeat(2000)));
        String message = received();
        int header = message.indexOf('ä');
        // 2048 octets, less the half of an ä that would not fit
        assertEquals(2048 - (2048 - header) % 2, message.getBytes(StandardCharsets.UTF_8).length);
        assertEquals("ä".repeat((2048 - header) / 2), message.substring(header));
    }

    @Test
    void sendsOverTcpWithOctetCounting() throws Exception {
        try (ServerSocket tcpReceiver = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            tcpReceiver.setSoTimeout(5000);
            Syslog syslog = plugin(Map.<String, Object>of("logsock", "unix,tcp", "port", tcpReceiver.getLocalPort(), "timeout", 1.0));
            syslog.onLogging(core(LogLevel.WARN, "first"));
            syslog.onLogging(core(LogLevel.ERROR, "zweite Zeile, ä"));
            try (Socket connection = tcpReceiver.accept()) {
                DataInputStream in = new DataInputStream(connection.getInputStream());
                assertEquals("<20>1 2024-05-06T07:08:09.123+02:00 mx.example qpsmtpd " + PID + " - - session test.1: first",
                        SyslogSenderTest.frame(in));
                assertEquals("session test.1: zweite Zeile, ä", SyslogSenderTest.frame(in).split(" - - ", 2)[1]);
            }
        }
    }

    @Test
    void anUnknownHostDropsTheLineAndDeclines() throws Exception {
        plugin = new Syslog(TestConfig.of(Syslog.Config.class, Map.of("host", "no-such-host.invalid")), () -> NOW);
        assertEquals(ReturnCode.DECLINED, plugin.onLogging(core(LogLevel.ERROR, "lost")).code());
        SyslogSenderTest.awaitDropped(plugin::dropped, 1);
    }

    @Test
    void timestampsInUtcEndInZ() throws Exception {
        plugin = new Syslog(TestConfig.of(Syslog.Config.class, Map.of("host", "127.0.0.1", "port", receiver.getLocalPort())),
                () -> NOW.withOffsetSameInstant(ZoneOffset.UTC));
        plugin.onLogging(core(LogLevel.WARN, "utc"));
        assertEquals("2024-05-06T05:08:09.123Z", received().split(" ")[1]);
    }
}
