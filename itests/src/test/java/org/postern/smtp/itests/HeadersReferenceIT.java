package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * headers side by side with qpsmtpd's plugin of the same name, both with {@code reject_type temp future 1 past 5}:
 * the same messages get the same replies, except where qpsmtpd's reply text is broken (see
 * {@link #headerProblemsAreNamedWhereQpsmtpdAnswersAReturnCode}).
 */
public class HeadersReferenceIT {
    private static final String FROM = "From: Alice <alice@example.org>\r\n";
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startBoth() throws Exception {
        qpsmtpd = ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(), "headers reject_type temp future 1 past 5");
        postern = ServerProcess.posternWithPlugins("headers", Map.of("org.postern.smtp.plugin.headers.cfg",
                "reject_type = temp\nfuture = 1\npast = 5"), List.of("plugin-headers")).awaitPlugin("headers");
    }

    @AfterClass
    public static void stopBoth() throws Exception {
        if (qpsmtpd != null) {
            qpsmtpd.close();
        }
        if (postern != null) {
            postern.close();
        }
    }

    @Test
    public void goodMessagesAreQueued() throws Exception {
        for (String header : List.of(FROM + date(0) + "Subject: hi\r\n", FROM + "Date: sometime soon\r\n", FROM)) {
            for (ServerProcess server : List.of(qpsmtpd, postern)) {
                String reply = dataReply(server.port, header + "\r\nbody\r\n");
                assertTrue(header + reply, reply.startsWith("250 "));
            }
        }
    }

    @Test
    public void emptyMessagesAndDatesOutOfRangeGetQpsmtpdsReply() throws Exception {
        for (String message : List.of("", FROM + date(-10) + "\r\nbody\r\n", FROM + date(3) + "\r\nbody\r\n",
                date(-10) + "Subject: one\r\nSubject: two\r\n\r\nbody\r\n")) {
            assertEquals(message, dataReply(qpsmtpd.port, message), dataReply(postern.port, message));
        }
        assertEquals("452 The Date header is too far in the past", dataReply(postern.port, FROM + date(-10) + "\r\nbody\r\n"));
        assertEquals("452 The Date header is too far in the future", dataReply(postern.port, FROM + date(3) + "\r\nbody\r\n"));
        assertEquals("452 You must send some data first", dataReply(postern.port, ""));
    }

    /**
     * qpsmtpd 0.94 passes its return code where the reply text belongs ({@code get_reject($self->get_reject_type(), …)}),
     * so the client reads {@code 452 902}; Postern names each problem on a line of its own, as the POD's texts say.
     */
    @Test
    public void headerProblemsAreNamedWhereQpsmtpdAnswersAReturnCode() throws Exception {
        String noFrom = "Subject: hi\r\n\r\nbody\r\n";
        String twoSubjects = FROM + "Subject: one\r\nSubject: two\r\n\r\nbody\r\n";
        assertEquals("452 902", dataReply(qpsmtpd.port, noFrom));
        assertEquals("452 902", dataReply(qpsmtpd.port, twoSubjects));
        assertEquals("452 We require a valid From header", dataReply(postern.port, noFrom));
        assertEquals("452 Only one Subject header allowed. See RFC 5322, Section 3.6", dataReply(postern.port, twoSubjects));
        assertEquals("452-We require a valid From header\n452 Only one Subject header allowed. See RFC 5322, Section 3.6",
                dataReply(postern.port, "Subject: one\r\nSubject: two\r\n\r\nbody\r\n"));
    }

    private static String date(int daysFromNow) {
        return "Date: " + DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusDays(daysFromNow)) + "\r\n";
    }

    /** The reply to the end of DATA, without the enhanced status codes Postern adds. */
    private static String dataReply(int port, String message) throws Exception {
        return ClientScript.comparable(ClientScript.replyToMessage(port, message));
    }
}
