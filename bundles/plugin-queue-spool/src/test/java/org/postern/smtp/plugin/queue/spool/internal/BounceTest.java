package org.postern.smtp.plugin.queue.spool.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.james.mime4j.MimeException;
import org.apache.james.mime4j.stream.EntityState;
import org.apache.james.mime4j.stream.MimeTokenStream;
import org.apache.james.mime4j.stream.RecursionMode;
import org.junit.jupiter.api.Test;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.RecipientState;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.State;

class BounceTest {
    private static final Instant ARRIVAL = Instant.parse("2025-03-01T10:00:00Z");
    private static final QueuedMessage ORIGINAL = new QueuedMessage("ABC123", "alice@example.org", ARRIVAL, "mx.example.org",
            Envelope.Body.UNKNOWN, 100, 1, ARRIVAL, List.of());
    private static final String MESSAGE = "Subject: lunch?\r\nFrom: alice@example.org\r\nTo: bob@example.net\r\n\r\nAt noon.\r\n";

    /** The parts of a MIME message, as mime4j reads them: the top header fields, then each part's type and body. */
    private record Parsed(Map<String, String> header, List<String> types, List<String> bodies) {
    }

    private static Parsed parse(byte[] message) throws IOException, MimeException {
        MimeTokenStream stream = new MimeTokenStream();
        stream.setRecursionMode(RecursionMode.M_NO_RECURSE);
        stream.parse(new ByteArrayInputStream(message));
        Map<String, String> header = new LinkedHashMap<>();
        List<String> types = new ArrayList<>();
        List<String> bodies = new ArrayList<>();
        boolean inTopHeader = true;
        for (EntityState state = stream.getState(); state != EntityState.T_END_OF_STREAM; state = stream.next()) {
            if (state == EntityState.T_FIELD && inTopHeader) {
                header.put(stream.getField().getName(), stream.getField().getBody());
            } else if (state == EntityState.T_END_HEADER) {
                inTopHeader = false;
            } else if (state == EntityState.T_BODY) {
                types.add(stream.getBodyDescriptor().getMimeType());
                bodies.add(new String(stream.getDecodedInputStream().readAllBytes(), StandardCharsets.US_ASCII));
            }
        }
        return new Parsed(header, types, bodies);
    }

    private static byte[] bounce(List<RecipientState> failed, boolean expired, String original) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Bounce.write(out, ORIGINAL, failed, expired, Duration.ofDays(5), new ByteArrayInputStream(original.getBytes(StandardCharsets.ISO_8859_1)),
                "mx.example.org", ARRIVAL.plusSeconds(60));
        return out.toByteArray();
    }

    @Test
    void aBounceIsAMultipartReportWithTextDeliveryStatusAndTheOriginalHeader() throws Exception {
        Parsed dsn = parse(bounce(List.of(new RecipientState("bob@example.net", State.FAILED, "550 5.1.1 <bob@example.net>: User unknown",
                "dns; mx.example.net"), new RecipientState("carol@example.net", State.FAILED, "554 Transaction failed", "dns; mx.example.net")),
                false, MESSAGE));
        assertEquals("<alice@example.org>", dsn.header().get("To"));
        assertEquals("Mail Delivery System <MAILER-DAEMON@mx.example.org>", dsn.header().get("From"));
        assertEquals("Sat, 1 Mar 2025 10:01:00 GMT", dsn.header().get("Date"));
        assertEquals("auto-replied", dsn.header().get("Auto-Submitted"));
        assertTrue(dsn.header().get("Content-Type").matches("multipart/report; report-type=delivery-status;\\s+boundary=\"[^\"]+\""),
                dsn.header().get("Content-Type"));
        assertEquals(List.of("text/plain", "message/delivery-status", "text/rfc822-headers"), dsn.types());

        assertTrue(dsn.bodies().get(0).contains("<bob@example.net>: 550 5.1.1 <bob@example.net>: User unknown\r\n"), dsn.bodies().get(0));
        assertEquals("""
                Reporting-MTA: dns; mx.example.org\r
                X-Postern-Queue-ID: ABC123\r
                Arrival-Date: Sat, 1 Mar 2025 10:00:00 GMT\r
                \r
                Final-Recipient: rfc822; bob@example.net\r
                Action: failed\r
                Status: 5.1.1\r
                Remote-MTA: dns; mx.example.net\r
                Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: User unknown\r
                \r
                Final-Recipient: rfc822; carol@example.net\r
                Action: failed\r
                Status: 5.0.0\r
                Remote-MTA: dns; mx.example.net\r
                Diagnostic-Code: smtp; 554 Transaction failed\r
                """, dsn.bodies().get(1));
        assertEquals("Subject: lunch?\r\nFrom: alice@example.org\r\nTo: bob@example.net\r\n", dsn.bodies().get(2));
    }

    @Test
    void aMessageThatExpiredReportsTheLastTemporaryFailureAndTheTimeItWaited() throws Exception {
        Parsed dsn = parse(bounce(List.of(new RecipientState("bob@example.net", State.FAILED, "451 4.4.1 Cannot connect to 192.0.2.25:25", ""),
                new RecipientState("carol@example.net", State.FAILED, "", "")), true, MESSAGE));
        assertTrue(dsn.bodies().get(0).contains("could not be delivered to one or more recipients within 5 days"), dsn.bodies().get(0));
        String report = dsn.bodies().get(1);
        assertTrue(report.contains("Final-Recipient: rfc822; bob@example.net\r\nAction: failed\r\nStatus: 4.4.1\r\n"
                + "Diagnostic-Code: smtp; 451 4.4.1 Cannot connect to 192.0.2.25:25\r\n"), report);
        assertTrue(report.endsWith("Final-Recipient: rfc822; carol@example.net\r\nAction: failed\r\nStatus: 4.4.7\r\n"), report);
    }

    @Test
    void onlyTheHeaderOfTheOriginalIsReturnedCutAtALineWhenItIsHuge() throws Exception {
        String huge = ("X-Filler: " + "x".repeat(1000) + "\r\n").repeat(100) + "\r\nbody\r\n";
        String headers = parse(bounce(List.of(new RecipientState("bob@example.net", State.FAILED, "550 No", "")), false, huge)).bodies().get(2);
        assertTrue(headers.length() <= Bounce.MOST_HEADER_OCTETS && headers.length() > Bounce.MOST_HEADER_OCTETS - 1100, "" + headers.length());
        assertTrue(headers.endsWith("x\r\n") && !headers.contains("body"));
        assertEquals("Subject: all header\r\n", new String(Bounce.header(new ByteArrayInputStream("Subject: all header".getBytes(StandardCharsets.US_ASCII))),
                StandardCharsets.US_ASCII));
    }
}
