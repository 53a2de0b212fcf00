package org.postern.smtp.plugin.help.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.CommandContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class HelpTest {
    /** HELP with these words. */
    private static final class HelpCommand extends TestContext implements CommandContext {
        private final List<String> words;

        HelpCommand(String... words) {
            this.words = List.of(words);
        }

        @Override
        public String command() {
            return "help";
        }

        @Override
        public List<String> arguments() {
            return words;
        }
    }

    @TempDir
    Path dir;
    private Path helpDir;

    @BeforeEach
    void writeHelpFiles() throws IOException {
        helpDir = Files.createDirectory(dir.resolve("help"));
        Files.writeString(helpDir.resolve("mail"), "MAIL FROM:<sender>\r\nstarts a transaction\r\n");
        Files.writeString(helpDir.resolve("rcpt"), "RCPT TO:<recipient>\n");
        Files.writeString(helpDir.resolve("empty"), "");
        Files.writeString(helpDir.resolve("blank"), "\n\n");
        Files.writeString(helpDir.resolve("quit-text"), "QUIT ends the session\n");
        Files.createDirectory(helpDir.resolve("folder"));
        Files.write(helpDir.resolve("huge"), new byte[Help.MAX_HELP_FILE_OCTETS + 1]);
    }

    /** The plugin as a .cfg with these lines configures it (values by key, as FileInstall gives them). */
    private static Help help(Map<String, String> cfg) {
        Map<String, Object> properties = new HashMap<>(cfg);
        properties.put("service.pid", "org.postern.smtp.plugin.help");
        properties.put("postern.hook.order", "900");
        return new Help(TestConfig.of(Help.Config.class, cfg), properties);
    }

    private Help withHelpDir() {
        return help(Map.of("help_dir", helpDir.toString()));
    }

    private static HookResult ask(Help help, String... words) {
        return help.onHelp(new HelpCommand(words));
    }

    private static void assertHelp(List<String> lines, HookResult answer) {
        assertHelp(lines, answer, "");
    }

    private static void assertHelp(List<String> lines, HookResult answer, String why) {
        assertEquals(ReturnCode.OK, answer.code(), why);
        assertEquals(lines, answer.message(), why);
    }

    @Test
    void helpWithoutACommandSaysHowToAsk() {
        assertHelp(List.of("Try 'HELP COMMAND' for getting help on COMMAND"), ask(withHelpDir()));
    }

    @Test
    void answersWithTheCommandsFileInHelpDir() {
        assertHelp(List.of("MAIL FROM:<sender>", "starts a transaction"), ask(withHelpDir(), "MAIL"));
        assertHelp(List.of("RCPT TO:<recipient>"), ask(withHelpDir(), "rcpt"));
    }

    @Test
    void aCommandWithoutUsableFileHasNoHelp() {
        for (String command : List.of("vrfy", "empty", "blank")) {
            assertHelp(List.of("No help available for SMTP command: " + command), ask(withHelpDir(), command));
        }
    }

    @Test
    void filesThatAreNoSmallRegularFilesAreNotRead() {
        for (String command : List.of("folder", "huge")) {
            HelpCommand ctx = new HelpCommand(command);
            assertHelp(List.of("No help available for SMTP command: " + command), withHelpDir().onHelp(ctx));
            assertEquals(1, ctx.logged().size(), ctx.logged().toString());
            assertTrue(ctx.logged().get(0).startsWith("ERROR "), ctx.logged().toString());
        }
    }

    @Test
    void anythingButOneWordIsNoCommandName() {
        List<List<String>> notOneWord =
                List.of(List.of("../../etc/passwd"), List.of("quit-text"), List.of("mail."), List.of("mail", "from"));
        for (List<String> words : notOneWord) {
            HookResult answer = withHelpDir().onHelp(new HelpCommand(words.toArray(String[]::new)));
            assertEquals(ReturnCode.DONE, answer.code(), words.toString());
            assertEquals(Optional.of(502), answer.replyCode());
            assertEquals(Optional.of("5.5.4"), answer.enhancedStatus());
            assertEquals(List.of("Invalid command name"), answer.message());
        }
    }

    @Test
    void notImplementedAnswers502ToEveryHelp() {
        for (String truth : List.of("1", "yes", "true")) {
            Help help = help(Map.of("help_dir", helpDir.toString(), "not_implemented", truth));
            for (HookResult answer : List.of(ask(help), ask(help, "mail"), ask(help, "../x"))) {
                assertEquals(ReturnCode.DONE, answer.code(), truth);
                assertEquals(Optional.of(502), answer.replyCode());
                assertEquals(Optional.of("5.5.1"), answer.enhancedStatus());
                assertEquals(List.of("Not implemented."), answer.message());
            }
        }
        for (String falsehood : List.of("0", "false", "")) {
            Help help = help(Map.of("help_dir", helpDir.toString(), "not_implemented", falsehood));
            assertHelp(List.of("RCPT TO:<recipient>"), ask(help, "rcpt"));
        }
    }

    @Test
    void aCommandKeyNamesItsOwnFile() throws IOException {
        Path elsewhere = Files.writeString(dir.resolve("data.txt"), "DATA sends the message\n");
        Help help = help(Map.of("help_dir", helpDir.toString(), "data", elsewhere.toString(), "MAIL", "quit-text"));
        assertHelp(List.of("DATA sends the message"), ask(help, "DATA"));
        assertHelp(List.of("QUIT ends the session"), ask(help, "mail"),
                "a bare file name is in help_dir, and wins over help_dir/mail");
        assertHelp(List.of("RCPT TO:<recipient>"), ask(help, "rcpt"));
    }

    @Test
    void unusableCommandKeysAreIgnored() {
        Help help = help(Map.of("help_dir", helpDir.toString(), "mail", "no-such-file", "rcpt", "bad name", "x-y", "rcpt"));
        assertHelp(List.of("MAIL FROM:<sender>", "starts a transaction"), ask(help, "mail"));
        assertHelp(List.of("RCPT TO:<recipient>"), ask(help, "rcpt"));
        assertHelp(List.of("No help available for SMTP command: x"), ask(help, "x"));
    }

    @Test
    void withoutUsableHelpDirOnlyCommandKeysGiveHelp() throws IOException {
        Path mail = Files.writeString(dir.resolve("mail.txt"), "only MAIL\n");
        for (String unusable : List.of("", "/tmp/has space", "/etc/$HOME")) {
            Help help = help(Map.of("help_dir", unusable, "mail", mail.toString()));
            assertHelp(List.of("only MAIL"), ask(help, "mail"));
            assertHelp(List.of("No help available for SMTP command: rcpt"), ask(help, "rcpt"));
        }
    }
}
