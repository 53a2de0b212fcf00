package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Postern and the reference implementation (qpsmtpd from Debian's package, with the same rcpt_ok and
 * queue/maildir setup) side by side: the same client lines to both, the same reply codes back, except where
 * Postern deliberately follows RFC 5321 instead (each such step names its reason; see the README).
 */
public class ReferenceRepliesIT {
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    /** One line sent; {@code posternCode} is null when both servers must give the same reply code. */
    private record Step(String line, String posternCode, String why) {
    }

    private static Step same(String line) {
        return new Step(line, null, null);
    }

    private static Step differs(String line, String posternCode, String why) {
        return new Step(line, posternCode, why);
    }

    private static final List<List<Step>> SESSIONS = List.of(
            List.of(same("HELO"), same("EHLO"), same("HELO client.example"),
                    differs("HELO again.example", "250", "RFC 5321 4.1.4: a repeated HELO resets the session")),
            List.of(same("MAIL FROM:<a@example.org>"), same("RCPT TO:<postmaster@localhost>"), same("DATA")),
            List.of(same("EHLO client.example"), same("RCPT TO:<postmaster@localhost>"), same("DATA"),
                    same("MAIL FROM:<a@example.org>"), same("DATA"), same("MAIL FROM:<b@example.org>")),
            List.of(same("EHLO client.example"), same("MAIL FROM:a@example.org"), same("MAIL FROM:<a@example.org"),
                    same("MAIL FROM:<>"), same("RCPT TO:<>"), same("RCPT TO:postmaster"), same("RCPT TO:<postmaster>"),
                    same("RCPT TO:<PostMaster@LOCALHOST>"), same("RCPT TO:<\"quoted\"@localhost>"),
                    same("RCPT TO:<x@elsewhere.example>")),
            List.of(same("EHLO client.example"), same("MAIL FROM:<a@example.org> AUTH=<>"), same("RSET"),
                    same("MAIL FROM:<a@example.org> SIZE=100"),
                    differs("RCPT TO:<postmaster@localhost> NOTIFY=NEVER", "555",
                            "RFC 5321 4.1.1.11: a parameter of an extension not offered, which no plugin took on"),
                    same("RSET"),
                    differs("MAIL FROM:<a@example.org> FOO=BAR", "555", "RFC 5321 4.1.1.11, no plugin took FOO on")),
            List.of(same("NOOP"), same("VRFY someone"), same("HELP"), same("RSET"), same("FOO"), same(""), same("EXPN list"),
                    same(" NOOP"), same("\tNOOP"), same("QUIT")),
            List.of(same("EHLO client.example"), same("MAIL FROM:<a@example.org>"), same("RCPT TO:<postmaster@localhost>"),
                    same("DATA"), same("Subject: same reply\r\n\r\nHello.\r\n..dot\r\n."), same("QUIT")),
            List.of(same("EHLO client.example"), same("MAIL FROM:<a@example.org>"), same("RCPT TO:<postmaster@localhost>"),
                    same("DATA"), same("Subject: bare LF\r\n\r\nbody\nmore\r\n.")),
            List.of(same("EHLO client.example"), same("MAIL FROM:<a@example.org>"), same("RCPT TO:<postmaster@localhost>"),
                    same("DATA"), same("."), same("MAIL FROM:<a@example.org>"), same("RCPT TO:<postmaster@localhost>"),
                    same("DATA"), same("Subject: header only\r\n."), same("QUIT")));

    @BeforeClass
    public static void startBoth() throws Exception {
        qpsmtpd = ServerProcess.qpsmtpd();
        postern = ServerProcess.postern("reference");
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
    public void replyCodesMatchTheReferenceImplementation() throws Exception {
        List<String> mismatches = new ArrayList<>();
        for (List<Step> steps : SESSIONS) {
            List<String> reference = replyCodes(qpsmtpd.port, steps);
            List<String> ours = replyCodes(postern.port, steps);
            assertEquals("greeting", reference.get(0), ours.get(0));
            for (int i = 0; i < steps.size(); i++) {
                Step step = steps.get(i);
                String expected = step.posternCode() == null ? reference.get(i + 1) : step.posternCode();
                if (!expected.equals(ours.get(i + 1))) {
                    mismatches.add(step.line() + ": qpsmtpd " + reference.get(i + 1) + ", postern " + ours.get(i + 1)
                            + (step.why() == null ? "" : " (expected " + expected + ": " + step.why() + ")"));
                }
                if (step.posternCode() != null && step.posternCode().equals(reference.get(i + 1))) {
                    mismatches.add(step.line() + ": listed as a difference, but qpsmtpd also answers " + step.posternCode());
                }
            }
        }
        assertTrue("replies that differ from qpsmtpd:\n" + String.join("\n", mismatches), mismatches.isEmpty());
    }

    @Test
    public void theSameMessageIsStoredWithTheSameBody() throws Exception {
        String body = "Line one\r\n..leading dot\r\n\r\n  indented\r\ncaf\u00c3\u00a9 8-bit\r\n";
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            replyCodes(server.port, List.of(same("EHLO client.example"), same("MAIL FROM:<a@example.org>"),
                    same("RCPT TO:<postmaster@localhost>"), same("DATA"), same("Subject: compare\r\n\r\n" + body + "."), same("QUIT")));
        }
        String reference = Files.readString(qpsmtpd.delivered("maildir").get(0), StandardCharsets.ISO_8859_1);
        String ours = Files.readString(postern.delivered("data/maildir").get(0), StandardCharsets.ISO_8859_1);
        String expectedBody = "Subject: compare\n\nLine one\n.leading dot\n\n  indented\ncaf\u00c3\u00a9 8-bit\n";
        assertTrue(reference, reference.endsWith(expectedBody));
        assertTrue(ours, ours.endsWith(expectedBody));
        assertTrue(ours, ours.startsWith("Return-Path: <a@example.org>\nDelivered-To: postmaster@localhost\nReceived: "));
        assertTrue(reference, reference.startsWith("Return-Path: <a@example.org>\n"));
    }

    /** The greeting's code, then one reply code per step ("EOF" once the server has closed). */
    private static List<String> replyCodes(int port, List<Step> steps) throws IOException {
        List<String> codes = new ArrayList<>();
        try (SmtpClient client = new SmtpClient(port)) {
            codes.add(code(client.reply()));
            for (Step step : steps) {
                try {
                    codes.add(code(client.command(step.line())));
                } catch (IOException closed) {
                    codes.add("EOF");
                }
            }
        }
        return codes;
    }

    private static String code(String reply) {
        return reply == null ? "EOF" : reply.substring(0, Math.min(3, reply.length()));
    }
}
