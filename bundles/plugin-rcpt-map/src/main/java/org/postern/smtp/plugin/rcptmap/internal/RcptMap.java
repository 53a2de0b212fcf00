package org.postern.smtp.plugin.rcptmap.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.PreConnectionContext;
import org.postern.smtp.api.PreConnectionHook;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code rcpt_map}: the recipients of one domain are answered from a map file of lines
 * {@code address CODE reply}; a recipient the map does not list gets the {@code default} answer. The file is
 * read at activation and again, before a connection, when its modification time changed: never per recipient.
 * Each factory configuration is one domain.
 */
@Component(service = {PreConnectionHook.class, RcptHook.class}, configurationPid = RcptMap.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = RcptMap.Config.class, factory = true)
@PosternPlugin("rcpt_map")
@PosternHook({"pre_connection", "rcpt"})
@HookOrder(860)
public final class RcptMap implements PreConnectionHook, RcptHook {
    static final String PID = "org.postern.smtp.plugin.rcpt_map";
    private static final Logger LOG = LoggerFactory.getLogger(RcptMap.class);
    private static final String NO_SUCH_USER = "No such user.";

    @ObjectClassDefinition(name = "Postern plugin: rcpt_map",
            description = "Answers the recipients of one domain from a map file of addresses, return codes and replies")
    public @interface Config {
        @AttributeDefinition(description = "The domain whose recipients the map answers (required)")
        String domain();

        @AttributeDefinition(description = "The map file: lines of address, return code, reply (required)")
        String file();

        @AttributeDefinition(name = "Default",
                description = "CODE[=reply] for recipients the map does not list; '_' in the reply is a space")
        String default$() default "DENY=No_such_user.";
    }

    private record Answer(ReturnCode code, String reply) {
    }

    /** The answers in use, and what the last look at the file saw (its modification time, or why it failed). */
    private record MapFile(String seen, Map<String, Answer> answers) {
    }

    private final String domain;
    private final Path file;
    private final HookResult notListed;
    private volatile MapFile map = new MapFile("", Map.of());

    @Activate
    public RcptMap(Config config) {
        this.domain = required(config.domain(), "domain").toLowerCase(Locale.ROOT);
        this.file = Path.of(required(config.file(), "file"));
        this.notListed = notListed(config.default$());
        refresh(problem -> LOG.error("configuration {}: {}", PID, problem));
    }

    private static String required(String value, String key) {
        if (value == null || value.isBlank()) {
            throw configurationError(key, "a value is required");
        }
        return value.strip();
    }

    private static IllegalArgumentException configurationError(String key, String problem) {
        String message = "configuration " + PID + ": key '" + key + "': " + problem;
        LOG.error(message);
        return new IllegalArgumentException(message);
    }

    /** qpsmtpd's {@code default CODE=Reply_text}; a refusal gets the status of a bad mailbox (RFC 3463 X.1.1). */
    private static HookResult notListed(String setting) {
        String[] parts = setting.strip().split("=", 2);
        ReturnCode code = returnCode(parts[0])
                .orElseThrow(() -> configurationError("default", "'" + parts[0] + "' is not a return code"));
        String reply = parts.length > 1 && !parts[1].isBlank() ? parts[1].replace('_', ' ') : NO_SUCH_USER;
        HookResult answer = result(new Answer(code, reply));
        return code.isDenial() ? answer.withEnhancedStatus((code.isPermanent() ? "5" : "4") + ".1.1") : answer;
    }

    @Override
    public HookResult onPreConnection(PreConnectionContext ctx) {
        refresh(problem -> ctx.log(LogLevel.ERROR, problem));
        return HookResult.declined();
    }

    @Override
    public HookResult onRcpt(RcptContext ctx) {
        Address recipient = ctx.recipient();
        if (recipient.user().isEmpty() || !recipient.normalizedHost().orElse("").equals(domain)) {
            return HookResult.declined();
        }
        Map<String, Answer> answers = map.answers();
        if (answers.isEmpty()) {
            ctx.log(LogLevel.WARN, "no usable map in " + file + ", deferring " + recipient.address());
            return HookResult.denySoft("Cannot check recipients now, please try again later").withEnhancedStatus("4.3.0");
        }
        Answer answer = answers.get(recipient.address().toLowerCase(Locale.ROOT));
        return answer == null ? notListed : result(answer);
    }

    /** qpsmtpd gives no reply text with OK (250 "recipient ok") or DECLINED. */
    private static HookResult result(Answer answer) {
        return answer.code() == ReturnCode.OK || answer.code() == ReturnCode.DECLINED
                ? HookResult.of(answer.code()) : HookResult.of(answer.code(), answer.reply());
    }

    /**
     * Reads the map if the file changed since the last look. A file that cannot be read, or holds no usable line,
     * leaves the answers as they were (none before the first good read), reported once per change.
     */
    private synchronized void refresh(Consumer<String> problems) {
        MapFile current = map;
        String seen;
        String text;
        try {
            seen = Files.getLastModifiedTime(file).toString();
            if (seen.equals(current.seen())) {
                return;
            }
            text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            seen = "unreadable: " + e;
            if (!seen.equals(current.seen())) {
                problems.accept("cannot read map " + file + " (" + e + "); " + fallback(current));
            }
            map = new MapFile(seen, current.answers());
            return;
        }
        Map<String, Answer> answers = parse(text, problems);
        if (answers.isEmpty()) {
            problems.accept("map " + file + " holds no usable line; " + fallback(current));
        }
        map = new MapFile(seen, answers.isEmpty() ? current.answers() : answers);
    }

    private String fallback(MapFile current) {
        return current.answers().isEmpty() ? "recipients at " + domain + " are deferred" : "the map read before stays in use";
    }

    /** Lines {@code address CODE reply}; blank lines and lines starting with '#' are skipped, bad ones reported. */
    private Map<String, Answer> parse(String text, Consumer<String> problems) {
        Map<String, Answer> answers = new HashMap<>();
        String[] lines = text.split("\r?\n");
        for (int number = 1; number <= lines.length; number++) {
            String[] fields = lines[number - 1].strip().split("\\s+", 3);
            if (fields[0].isEmpty() || fields[0].startsWith("#")) {
                continue;
            }
            Optional<ReturnCode> code = fields.length < 2 ? Optional.empty() : returnCode(fields[1]);
            if (code.isPresent()) {
                answers.put(fields[0].toLowerCase(Locale.ROOT), new Answer(code.get(), fields.length > 2 ? fields[2] : NO_SUCH_USER));
            } else {
                problems.accept((fields.length < 2 ? "No constant" : "Not a valid constant") + " in line " + number + " in " + file);
            }
        }
        return Map.copyOf(answers);
    }

    /** qpsmtpd's constant names, which ReturnCode keeps; DENYHARD is the old name of DENY_DISCONNECT. */
    private static Optional<ReturnCode> returnCode(String name) {
        return Arrays.stream(ReturnCode.values())
                .filter(code -> code.name().equals(name) || code == ReturnCode.DENY_DISCONNECT && name.equals("DENYHARD")).findFirst();
    }
}
