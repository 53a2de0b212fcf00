package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * rspamd against Debian's real rspamd, through the distribution: one Postern that defers when rspamd fails and writes
 * the X-Rspamd fields on every message ({@code defer.error}, {@code add_headers always}), one with the defaults (a
 * failure lets the message pass, marked; the fields only on spam). Both scan loopback clients ({@code check.local_ip}),
 * which Haraka's defaults skip. qpsmtpd has no rspamd plugin to run beside them.
 */
public class RspamdIT {
    private static final String CFG = "org.postern.smtp.plugin.rspamd.cfg";
    private static final String HEAD = "From: a@example.org\r\nTo: b@localhost\r\nMessage-ID: <%s@example.org>\r\n"
            + "Date: Thu, 03 Dec 2026 11:00:00 +0000\r\n";

    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Rspamd rspamd;
    private static ServerProcess strict;
    private static ServerProcess lenient;

    @BeforeClass
    public static void startRspamdAndServers() throws Exception {
        rspamd = Rspamd.start();
        String where = "host = 127.0.0.1\nport = " + rspamd.port + "\ncheck.local_ip = true\n";
        strict = SERVERS.add(ServerProcess.posternWithPlugins("rspamd-strict", Map.of(CFG,
                where + "defer.error = true\nadd_headers = always"), List.of("plugin-rspamd"))).awaitPlugin("rspamd");
        lenient = SERVERS.add(ServerProcess.posternWithPlugins("rspamd-lenient", Map.of(CFG, where), List.of("plugin-rspamd")))
                .awaitPlugin("rspamd");
    }

    @AfterClass
    public static void stopRspamd() throws InterruptedException {
        if (rspamd != null) {
            rspamd.close();
        }
    }

    private static String message(String subject, String body) {
        return String.format(HEAD, subject.replaceAll("\\W", "-")) + "Subject: " + subject + "\r\n\r\n" + body + "\r\n";
    }

    /** The reply to the end of DATA. */
    private static String dataReply(ServerProcess server, String message) throws Exception {
        return ClientScript.replyToMessage(server.port, message);
    }

    /** The header of the delivered message with this subject (as delivered, or rewritten), unfolded, in order. */
    private static Map<String, List<String>> fields(ServerProcess server, String subject) throws Exception {
        for (Path file : server.delivered("data/maildir")) {
            String delivered = Files.readString(file, StandardCharsets.ISO_8859_1);
            String header = delivered.substring(0, delivered.indexOf("\n\n") + 1).replaceAll("\n[ \t]+", " ");
            if (header.lines().anyMatch(line -> line.startsWith("Subject: ") && line.endsWith(subject))) {
                Map<String, List<String>> fields = new LinkedHashMap<>();
                header.lines().forEach(line -> fields.computeIfAbsent(line.substring(0, line.indexOf(':')), name -> new ArrayList<>())
                        .add(line.substring(line.indexOf(':') + 1).strip()));
                return fields;
            }
        }
        throw new AssertionError("no message with subject " + subject + " in " + server.base.resolve("data/maildir"));
    }

    @Test
    public void healthShowsRspamdAnsweringPing() throws Exception {
        String peer = "rspamd 127.0.0.1:" + rspamd.port;
        Health.Page page = Health.await(strict, peer, answer -> answer.body().contains("Postern peer: " + peer));
        assertEquals(page.body(), 1, page.lines("OK Postern peer: " + peer + ": " + peer + " answered: pong"));
    }

    @Test
    public void swaksSendsACleanMessageThatPassesWithRspamdsFieldsAndSignature() throws Exception {
        for (ServerProcess server : List.of(strict, lenient)) {
            String subject = "clean " + server.port;
            String output = DistributionIT.run(0, "swaks", "--server", "127.0.0.1:" + server.port, "--from", "a@example.org",
                    "--to", "b@localhost", "--header", "Subject: " + subject, "--body", "Nothing to see here.");
            assertTrue(output, output.contains("<-  250 "));
            Map<String, List<String>> fields = fields(server, subject);
            assertTrue(fields.toString(), fields.get("X-Spam-Status").get(0).startsWith("No, score="));
            assertTrue(fields.toString(), fields.get("X-Rspamd-Queue-Id").get(0).matches("\\S+\\.\\d+"));
            assertTrue(fields.toString(), fields.get("DKIM-Signature").get(0).contains("d=example.org; s=postern;"));
            // the signature goes above the trace fields, as a signer's does
            List<String> names = List.copyOf(fields.keySet());
            assertTrue(names.toString(), names.indexOf("DKIM-Signature") < names.indexOf("Received"));
            assertEquals(fields.toString(), server == strict, fields.containsKey("X-Rspamd-Score"));
            assertEquals(fields.toString(), server == strict, fields.containsKey("X-Rspamd-Bar"));
        }
        assertTrue(strict.log(), strict.log().contains("pass, no action, score "));
    }

    @Test
    public void gtubeIsRefusedWith550AndRspamdsMessage() throws Exception {
        // swaks exits with 26 when the server refuses the message at the end of DATA
        String output = DistributionIT.run(26, "swaks", "--server", "127.0.0.1:" + lenient.port, "--from", "a@example.org",
                "--to", "b@localhost", "--body", Rspamd.GTUBE);
        assertTrue(output, output.contains("<** 550 5.7.1 Gtube pattern"));
        assertEquals("550 5.7.1 Gtube pattern", dataReply(strict, message("gtube", Rspamd.GTUBE)));
        assertTrue(strict.log(), strict.log().contains("fail, reject, score 15 / 15"));
    }

    @Test
    public void addHeaderWritesScoreBarAndReportWhileNoActionOnTheLenientServerWritesNone() throws Exception {
        String subject = Rspamd.ADD_HEADER + " please";
        assertTrue(dataReply(lenient, message(subject, "Hello.")).startsWith("250 "));
        Map<String, List<String>> fields = fields(lenient, subject);
        assertEquals(List.of("7"), fields.get("X-Rspamd-Score"));
        assertEquals(List.of("+++++++"), fields.get("X-Rspamd-Bar"));
        assertTrue(fields.toString(), fields.get("X-Rspamd-Report").get(0).contains("POSTERN_ADD_HEADER(7)"));
        assertEquals(List.of("Yes, score=7.00"), fields.get("X-Spam-Status"));
    }

    @Test
    public void rewriteSubjectGetsRspamdsSubject() throws Exception {
        String subject = Rspamd.REWRITE_SUBJECT + " please";
        assertTrue(dataReply(lenient, message(subject, "Hello.")).startsWith("250 "));
        Map<String, List<String>> fields = fields(lenient, "***SPAM*** " + subject);
        assertEquals(List.of("***SPAM*** " + subject), fields.get("Subject"));
        assertEquals(List.of("10"), fields.get("X-Rspamd-Score"));
    }

    @Test
    public void softRejectAndGreylistAreDeferredWith451() throws Exception {
        assertEquals("451 4.7.1 " + Rspamd.SOFT_REJECT_MESSAGE, dataReply(lenient, message(Rspamd.SOFT_REJECT + " please", "Hello.")));
        assertEquals("451 4.7.1 Try again later", dataReply(lenient, message(Rspamd.GREYLIST + " please", "Hello.")));
    }

    @Test
    public void multiMegabyteMessagesAreStreamedWhole() throws Exception {
        // the marker on the last line of 8 MB: rspamd rejects it only if it got all of it
        String script = String.join("\n",
                "import smtplib, sys",
                "line = 'All work and no play makes Jack a dull boy. 0123456789 abcdefghijklmnopqrstuvwxyz\\r\\n'",
                "head = 'From: a@example.org\\r\\nTo: b@localhost\\r\\nSubject: %s\\r\\n\\r\\n'",
                "with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=60) as smtp:",
                "    for subject, last in (('big marker', sys.argv[2]), ('big clean', 'The end.')):",
                "        try:",
                "            smtp.sendmail('a@example.org', ['b@localhost'], head % subject + line * 100000 + last + '\\r\\n')",
                "            print(subject, 'accepted')",
                "        except smtplib.SMTPDataError as e:",
                "            print(subject, e.smtp_code, e.smtp_error.decode())");
        for (ServerProcess server : List.of(strict, lenient)) {
            String output = DistributionIT.run(0, "python3", "-c", script, Integer.toString(server.port), Rspamd.MARKER);
            assertEquals(output, List.of("big marker 550 5.7.1 " + Rspamd.MARKER_MESSAGE, "big clean accepted"), output.lines().toList());
            assertTrue(fields(server, "big clean").get("X-Spam-Status").get(0).startsWith("No, score="));
        }
    }

    @Test
    public void withRspamdStoppedAMessageIsDeferredOrPassesMarkedByDeferError() throws Exception {
        rspamd.stop();
        try {
            assertEquals("451 4.3.0 Rspamd scan error", dataReply(strict, message("down", "Hello.")));
            assertTrue(dataReply(lenient, message("down lenient", "Hello.")).startsWith("250 "));
            Map<String, List<String>> fields = fields(lenient, "down lenient");
            assertEquals(List.of("not scanned, connection refused"), fields.get("X-Rspamd-Error"));
            assertEquals(null, fields.get("X-Spam-Status"));
        } finally {
            rspamd.restart();
        }
        assertTrue(lenient.log(), lenient.log().contains("rspamd at 127.0.0.1:" + rspamd.port
                + " failed: connection refused; passed unscanned"));
        assertTrue(dataReply(strict, message("up again", "Hello.")).startsWith("250 "));
    }
}
