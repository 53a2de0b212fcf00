package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * help side by side with qpsmtpd's plugin of the same name: with a help_dir and a command's own file, with
 * not_implemented, and with neither (qpsmtpd's ./help/, which neither server's working folder has). The same HELP
 * lines get the same replies.
 */
public class HelpReferenceIT {
    private static final String PLUGIN_CFG = "org.postern.smtp.plugin.help.cfg";
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Path helpDir;
    private static ServerProcess qpsmtpdFiles;
    private static ServerProcess posternFiles;
    private static ServerProcess qpsmtpdNotImplemented;
    private static ServerProcess posternNotImplemented;
    private static ServerProcess qpsmtpdDefault;
    private static ServerProcess posternDefault;

    @BeforeClass
    public static void startServers() throws Exception {
        Path base = Files.createTempDirectory("help-reference");
        helpDir = Files.createDirectory(base.resolve("help"));
        Files.writeString(helpDir.resolve("mail"), "MAIL FROM:<address> [SIZE=octets]\nstarts a mail transaction\n");
        Files.writeString(helpDir.resolve("rcpt"), "RCPT TO:<address>\n");
        Files.writeString(helpDir.resolve("crlf"), "written on Windows\r\nwith CRLF\r\n");
        Files.writeString(helpDir.resolve("empty"), "");
        Files.createDirectory(helpDir.resolve("folder"));
        Path data = Files.writeString(base.resolve("data.txt"), "DATA, then the message, then a line with a single dot\n");
        // qpsmtpd runs as the user qpsmtpd when the tests run as root
        for (Path path : List.of(base, helpDir, helpDir.resolve("folder"))) {
            path.toFile().setExecutable(true, false);
            path.toFile().setReadable(true, false);
        }
        for (Path file : List.of(helpDir.resolve("mail"), helpDir.resolve("rcpt"), helpDir.resolve("crlf"),
                helpDir.resolve("empty"), data)) {
            file.toFile().setReadable(true, false);
        }

        qpsmtpdFiles = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(),
                "help help_dir " + helpDir + " data " + data));
        posternFiles = SERVERS.add(postern("files", "help_dir = " + helpDir + "\ndata = " + data));
        qpsmtpdNotImplemented = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(),
                "help not_implemented 1"));
        posternNotImplemented = SERVERS.add(postern("not-implemented", "not_implemented = 1"));
        qpsmtpdDefault = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(), "help"));
        posternDefault = SERVERS.add(postern("default", null));
    }

    /** Postern with the plugin installed, configured by these .cfg lines, or not at all. */
    private static ServerProcess postern(String name, String cfgLines) throws Exception {
        return ServerProcess.posternWithPlugins("help-" + name, cfgLines == null ? Map.of() : Map.of(PLUGIN_CFG, cfgLines),
                List.of("plugin-help")).awaitPlugin("help");
    }

    @Test
    public void helpFilesAnswerAsInQpsmtpd() throws Exception {
        List<String> lines = List.of("HELP", "HELP MAIL", "help rcpt", "HELP data", "HELP mail from", "HELP vrfy", "HELP empty",
                "HELP folder", "HELP ../../etc/passwd", "HELP help_dir", "QUIT");
        List<String> qpsmtpdReplies = ClientScript.replies(qpsmtpdFiles, lines);
        assertEquals(List.of("214 Try 'HELP COMMAND' for getting help on COMMAND",
                "214-MAIL FROM:<address> [SIZE=octets]\n214 starts a mail transaction",
                "214 RCPT TO:<address>",
                "214 DATA, then the message, then a line with a single dot",
                "502 Invalid command name",
                "214 No help available for SMTP command: vrfy",
                "214 No help available for SMTP command: empty",
                "214 No help available for SMTP command: folder",
                "502 Invalid command name",
                "214 No help available for SMTP command: help_dir",
                "221 localhost closing connection. Have a wonderful day.", "closed"), qpsmtpdReplies);
        assertEquals(qpsmtpdReplies, ClientScript.replies(posternFiles, lines));
    }

    /**
     * qpsmtpd splits a help file at LF only, so each line of a file with CRLF line ends reaches the client with a
     * bare CR before its CRLF (RFC 5321 2.3.8 forbids it; a client that ends lines at CR sees an empty line more
     * than the reply has). Postern ends a line at CRLF, CR or LF.
     */
    @Test
    public void aFileWithCrlfLineEndsGivesCleanLines() throws Exception {
        assertEquals(List.of("214-written on Windows\n214 with CRLF", "221 localhost closing connection. Have a wonderful day.",
                "closed"), ClientScript.replies(posternFiles, List.of("HELP crlf", "QUIT")));
    }

    @Test
    public void aNewHelpFileAnswersAtOnce() throws Exception {
        Path quit = Files.writeString(helpDir.resolve("quit"), "QUIT ends the session\n");
        quit.toFile().setReadable(true, false);
        List<String> lines = List.of("HELP QUIT", "QUIT");
        List<String> qpsmtpdReplies = ClientScript.replies(qpsmtpdFiles, lines);
        assertEquals("214 QUIT ends the session", qpsmtpdReplies.get(0));
        assertEquals(qpsmtpdReplies, ClientScript.replies(posternFiles, lines));
    }

    @Test
    public void notImplementedAnswers502AsInQpsmtpd() throws Exception {
        List<String> lines = List.of("HELP", "HELP mail", "HELP ../x", "QUIT");
        List<String> qpsmtpdReplies = ClientScript.replies(qpsmtpdNotImplemented, lines);
        assertEquals(List.of("502 Not implemented.", "502 Not implemented.", "502 Not implemented.",
                "221 localhost closing connection. Have a wonderful day.", "closed"), qpsmtpdReplies);
        assertEquals(qpsmtpdReplies, ClientScript.replies(posternNotImplemented, lines));
    }

    @Test
    public void withoutConfigurationAsInQpsmtpd() throws Exception {
        List<String> lines = List.of("HELP", "HELP mail", "QUIT");
        List<String> qpsmtpdReplies = ClientScript.replies(qpsmtpdDefault, lines);
        assertEquals(List.of("214 Try 'HELP COMMAND' for getting help on COMMAND",
                "214 No help available for SMTP command: mail",
                "221 localhost closing connection. Have a wonderful day.", "closed"), qpsmtpdReplies);
        assertEquals(qpsmtpdReplies, ClientScript.replies(posternDefault, lines));
    }
}
