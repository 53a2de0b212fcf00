package org.postern.smtp.itests;

import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * logging/file in qpsmtpd and in Postern, side by side, each with two instances from the same arguments: one writes
 * a file named by its date pattern, the other a command's input ({@code |cat >> …}). A session with a refused
 * recipient puts its lines, in qpsmtpd's shape, into both. The wording of the lines is each server's own.
 */
public class LoggingFileIT {
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    /** The default tsformat, then the host and the process (qpsmtpd) or session (Postern) in brackets. */
    private static final Pattern LINE = Pattern.compile("\\w{3} \\w{3} \\d\\d \\d\\d:\\d\\d:\\d\\d \\d{4} \\S+\\[\\S+\\]: .+");
    private static final String RECIPIENT = "someone@elsewhere.example";
    private static Path qpsmtpdLogs;
    private static Path posternLogs;
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void start() throws Exception {
        qpsmtpdLogs = logFolder("qpsmtpd");
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of("logging",
                "logging/file loglevel LOGINFO " + qpsmtpdLogs.resolve("qpsmtpd.log.%Y-%m-%d") + "\n"
                + "logging/file:2 loglevel LOGINFO |cat >> " + qpsmtpdLogs.resolve("piped.log") + "\n")));
        posternLogs = logFolder("postern");
        postern = SERVERS.add(ServerProcess.posternWithPlugins("logging-file", Map.of(
                "org.postern.smtp.plugin.logging.file-dated.cfg",
                "path = " + posternLogs.resolve("qpsmtpd.log.%Y-%m-%d") + "\nloglevel = LOGINFO",
                "org.postern.smtp.plugin.logging.file-piped.cfg",
                "path = |cat >> " + posternLogs.resolve("piped.log") + "\nloglevel = LOGINFO"),
                List.of("plugin-logging-file")));
        postern.awaitPlugin("logging/file:dated").awaitPlugin("logging/file:piped");
    }

    /** qpsmtpd runs as its own user, which must be able to write there. */
    private static Path logFolder(String server) throws Exception {
        Path folder = Files.createTempDirectory("logging-file-" + server);
        folder.toFile().setWritable(true, false);
        folder.toFile().setExecutable(true, false);
        return folder;
    }

    @Test
    public void bothInstancesGetTheRefusedSessionsLinesInQpsmtpdsShape() throws Exception {
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            assertTrue(ClientScript.replies(server, List.of("HELO client.example", "MAIL FROM:<sender@example.org>",
                    "RCPT TO:<" + RECIPIENT + ">", "QUIT")).get(2).startsWith("550"));
        }
        for (Path logs : List.of(qpsmtpdLogs, posternLogs)) {
            LocalDate today = LocalDate.now();
            String dated = await(logs, text -> text.contains(RECIPIENT), "qpsmtpd.log." + today, "qpsmtpd.log." + today.minusDays(1));
            List<String> recipientLines = recipientLines(dated);
            // the second instance saw each line too
            String piped = await(logs, text -> recipientLines(text).containsAll(recipientLines), "piped.log");
            for (String text : List.of(dated, piped)) {
                for (String line : text.split("\n")) {
                    assertTrue(logs + ": " + line, LINE.matcher(line).matches());
                }
            }
        }
    }

    private static List<String> recipientLines(String text) {
        return text.lines().filter(line -> line.contains(RECIPIENT)).map(line -> line.substring(line.indexOf("]: "))).toList();
    }

    /** The text of the first of these files that passes the check (the date may change during the test). */
    private static String await(Path logs, Predicate<String> check, String... names) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < deadline) {
            for (String name : names) {
                Path file = logs.resolve(name);
                Optional<String> text = Files.exists(file) ? Optional.of(Files.readString(file)) : Optional.empty();
                if (text.filter(check).isPresent()) {
                    return text.get();
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("not the lines naming " + RECIPIENT + " in " + List.of(names) + " under " + logs + " within 10 s");
    }
}
