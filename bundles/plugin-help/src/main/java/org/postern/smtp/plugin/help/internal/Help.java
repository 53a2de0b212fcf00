package org.postern.smtp.plugin.help.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.CommandContext;
import org.postern.smtp.api.HelpHook;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code help}: answers {@code HELP <command>} with a file, the command's own (a configuration key
 * named after the command) or the one named after it in {@code help_dir}; or answers 502 to every HELP with
 * {@code not_implemented}. Help files are read when asked for, so edits show at once: only regular files, and
 * only up to {@link #MAX_HELP_FILE_OCTETS}, so that a HELP never waits on more than a small local file.
 */
@Component(service = HelpHook.class, configurationPid = Help.PID)
@Designate(ocd = Help.Config.class)
@PosternPlugin("help")
@PosternHook("help")
@HookOrder(900)
public final class Help implements HelpHook {
    static final String PID = "org.postern.smtp.plugin.help";
    static final int MAX_HELP_FILE_OCTETS = 64 * 1024;
    private static final String DEFAULT_HELP_DIR = "./help/";
    private static final Set<String> OPTIONS = Set.of("help_dir", "not_implemented");
    private static final Pattern COMMAND = Pattern.compile("\\w+");
    private static final Pattern FILE_NAME = Pattern.compile("[\\w.\\-/]+");
    private static final Logger LOG = LoggerFactory.getLogger(Help.class);

    @ObjectClassDefinition(name = "Postern plugin: help",
            description = "Answers HELP <command> from help files; any other key without a dot names a command and "
                    + "its help file")
    public @interface Config {
        @AttributeDefinition(description = "Anything but 0, false or empty: every HELP is answered 502 Not implemented.")
        String not__implemented() default "0";

        @AttributeDefinition(description = "Folder of help files, each named after its command in lower case (help_dir/mail "
                + "answers HELP MAIL); letters, digits and _ . - / only; empty: none")
        String help__dir() default DEFAULT_HELP_DIR;
    }

    private final boolean notImplemented;
    private final Optional<Path> helpDir;
    private final Map<String, Path> commandFiles;

    /** {@code properties} carries the command keys, which the metatype cannot declare (qpsmtpd's COMMAND HELPFILE pairs). */
    @Activate
    public Help(Config config, Map<String, Object> properties) {
        String notImplementedValue = config.not__implemented().strip();
        // qpsmtpd's test is Perl's truth ("0" and "" are false); "false" is false here too
        this.notImplemented = !(notImplementedValue.isEmpty() || notImplementedValue.equals("0")
                || notImplementedValue.equalsIgnoreCase("false"));
        this.helpDir = helpDir(config.help__dir().strip());
        this.commandFiles = commandFiles(properties, helpDir.orElse(Path.of(DEFAULT_HELP_DIR).toAbsolutePath()));
    }

    private static Optional<Path> helpDir(String helpDir) {
        if (helpDir.isEmpty()) {
            return Optional.empty();
        }
        if (!FILE_NAME.matcher(helpDir).matches()) {
            LOG.error("configuration {}: key 'help_dir': '{}' has characters other than letters, digits, _ . - and /; "
                    + "no help_dir", PID, helpDir);
            return Optional.empty();
        }
        return Optional.of(Path.of(helpDir).toAbsolutePath());
    }

    /**
     * Keys with a dot are the framework's and Postern's ({@code service.pid}, {@code postern.hook.order}); the
     * other keys besides the options name commands, as qpsmtpd's {@code COMMAND HELPFILE} pairs.
     */
    private static Map<String, Path> commandFiles(Map<String, Object> properties, Path helpDir) {
        Map<String, Path> files = new HashMap<>();
        properties.forEach((key, value) -> {
            if (key.contains(".") || OPTIONS.contains(key)) {
                return;
            }
            if (!COMMAND.matcher(key).matches()) {
                LOG.warn("configuration {}: key '{}' is no option of help and names no command; ignored", PID, key);
                return;
            }
            if (!(value instanceof String text)) {
                LOG.error("configuration {}: key '{}': {} is not one file name; ignored", PID, key, value);
                return;
            }
            String name = text.strip();
            if (!FILE_NAME.matcher(name).matches()) {
                LOG.error("configuration {}: key '{}': '{}' has characters other than letters, digits, _ . - and /; ignored",
                        PID, key, name);
                return;
            }
            // qpsmtpd looks for a bare file name in its help/ folder, which its NOTES want configurable: help_dir
            Path file = name.contains("/") ? Path.of(name).toAbsolutePath() : helpDir.resolve(name);
            if (!Files.isRegularFile(file)) {
                LOG.warn("configuration {}: key '{}': no help file for command '{}' at {}; ignored", PID, key, key, file);
                return;
            }
            files.put(key.toLowerCase(Locale.ROOT), file);
        });
        return Map.copyOf(files);
    }

    @Override
    public HookResult onHelp(CommandContext ctx) {
        if (notImplemented) {
            return HookResult.done(502, "Not implemented.").withEnhancedStatus("5.5.1");
        }
        if (ctx.arguments().isEmpty()) {
            return HookResult.ok("Try 'HELP COMMAND' for getting help on COMMAND");
        }
        // qpsmtpd hands the plugin the rest of the line as one argument, so "HELP mail from" names no command
        String command = String.join(" ", ctx.arguments()).toLowerCase(Locale.ROOT);
        if (!COMMAND.matcher(command).matches()) {
            // a file name made of the client's words must not leave the folder ("HELP ../../etc/passwd")
            return HookResult.done(502, "Invalid command name").withEnhancedStatus("5.5.4");
        }
        Optional<Path> file = Optional.ofNullable(commandFiles.get(command))
                .or(() -> helpDir.map(dir -> dir.resolve(command)).filter(Files::exists));
        List<String> help = file.map(found -> read(ctx, found, command)).orElse(List.of());
        return HookResult.ok(help.isEmpty() ? List.of("No help available for SMTP command: " + command) : help);
    }

    /** The file's lines, as qpsmtpd splits them; none when it could not be read. */
    private static List<String> read(CommandContext ctx, Path file, String command) {
        if (!Files.isRegularFile(file)) {
            // a FIFO or device would keep the hook thread waiting; a folder has no text
            ctx.log(LogLevel.ERROR, "failed to open help file for " + command + ": " + file + " is not a regular file");
            return List.of();
        }
        byte[] text;
        try (InputStream in = Files.newInputStream(file)) {
            text = in.readNBytes(MAX_HELP_FILE_OCTETS + 1);
        } catch (IOException e) {
            ctx.log(LogLevel.ERROR, "failed to open help file for " + command + ": " + e);
            return List.of();
        }
        if (text.length > MAX_HELP_FILE_OCTETS) {
            ctx.log(LogLevel.ERROR, "help file for " + command + " is larger than " + MAX_HELP_FILE_OCTETS + " octets: "
                    + file);
            return List.of();
        }
        String[] lines = new String(text, StandardCharsets.UTF_8).split("\r\n|\r|\n");
        return lines.length == 1 && lines[0].isEmpty() ? List.of() : List.of(lines);
    }
}
