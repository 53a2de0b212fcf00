package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * content_log side by side with qpsmtpd's plugin of the same name: the same messages end up in a file named by the
 * day, with the same content but for the Received field each server adds in its own words.
 */
public class ContentLogReferenceIT {
    /** Makes qpsmtpd's working folder, where content_log writes mail/, the one given as the argument. */
    private static final String WORK_IN = String.join("\n",
            "use Qpsmtpd::Constants;",
            "sub register {",
            "    my ($self, $qp, $folder) = @_;",
            "    chdir $folder or die \"cannot work in $folder: $!\";",
            "}",
            "");
    private static final List<String> MESSAGES = List.of(
            "Subject: content_log\r\nX-Folded: first\r\n\tsecond\r\n\r\nHello.\r\n..a line that began with a dot\r\n\r\n"
                    + "z".repeat(900) + "\r\n.",
            "Subject: the second\r\n\r\nBye.\r\n.");
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Path qpsmtpdLogs;
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startServers() throws Exception {
        Path work = Files.createTempDirectory("content-log");
        qpsmtpdLogs = Files.createDirectories(work.resolve("mail"));
        for (Path folder : List.of(work, qpsmtpdLogs)) {
            folder.toFile().setWritable(true, false);
            folder.toFile().setExecutable(true, false);
        }
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpd(List.of("localhost"), Map.of("work_in", WORK_IN),
                "work_in " + work, "content_log"));
        postern = SERVERS.add(ServerProcess.posternWithPlugins("content-log", Map.of(), List.of("plugin-content-log"))
                .awaitPlugin("content_log"));
    }

    @Test
    public void eachMessageIsAppendedToTheDaysFileAsInQpsmtpd() throws Exception {
        String before = LocalDate.now().format(DateTimeFormatter.BASIC_ISO_DATE);
        for (String message : MESSAGES) {
            List<String> lines = List.of("HELO client.example", "MAIL FROM:<a@example.org>", "RCPT TO:<postmaster@localhost>",
                    "DATA", message, "QUIT");
            assertTrue(ClientScript.replies(qpsmtpd, lines).get(4).startsWith("250 "));
            assertTrue(ClientScript.replies(postern, lines).get(4).startsWith("250 "));
        }
        String after = LocalDate.now().format(DateTimeFormatter.BASIC_ISO_DATE);

        Path reference = onlyFile(qpsmtpdLogs);
        Path ours = onlyFile(postern.base.resolve("data/mail"));
        assertTrue(reference.toString(), List.of(before, after).contains(reference.getFileName().toString()));
        assertEquals(reference.getFileName(), ours.getFileName());
        String referenceContent = withoutReceived(Files.readString(reference, StandardCharsets.ISO_8859_1));
        String authenticationResults = "Authentication-Results: localhost; auth=none\n";
        assertEquals(authenticationResults + "Subject: content_log\nX-Folded: first\n\tsecond\n\nHello.\n"
                + ".a line that began with a dot\n\n" + "z".repeat(900) + "\n"
                + authenticationResults + "Subject: the second\n\nBye.\n", referenceContent);
        assertEquals(referenceContent, withoutReceived(Files.readString(ours, StandardCharsets.ISO_8859_1)));
    }

    private static Path onlyFile(Path folder) throws Exception {
        try (Stream<Path> files = Files.list(folder)) {
            List<Path> all = files.toList();
            assertEquals(folder.toString(), 1, all.size());
            return all.get(0);
        }
    }

    /** The log without the Received fields (each with its folded lines), which each server words its own way. */
    private static String withoutReceived(String log) {
        return log.replaceAll("(?m)^Received:.*\n(?:[ \t].*\n)*", "");
    }
}
