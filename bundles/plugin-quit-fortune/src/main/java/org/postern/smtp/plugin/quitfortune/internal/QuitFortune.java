package org.postern.smtp.plugin.quitfortune.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.QuitHook;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code quit_fortune}: answers the QUIT of a client that said HELO (not EHLO) with a short fortune from
 * {@code fortune -s}, each of its lines after {@code "  / "}. The program runs with a time limit; when it is
 * missing, slow or fails, the core's usual 221 goes out instead.
 */
@Component(service = QuitHook.class, configurationPid = QuitFortune.PID)
@Designate(ocd = QuitFortune.Config.class)
@PosternPlugin("quit_fortune")
@PosternHook("quit")
@HookOrder(500)
public final class QuitFortune implements QuitHook {
    static final String PID = "org.postern.smtp.plugin.quit_fortune";
    private static final long DEFAULT_TIMEOUT_MS = 2000;
    /** fortune -s prints at most 160 characters; anything far beyond that is not a fortune. */
    private static final int MAX_OUTPUT = 4096;
    private static final Logger LOG = LoggerFactory.getLogger(QuitFortune.class);

    @ObjectClassDefinition(name = "Postern plugin: quit_fortune",
            description = "Answers QUIT after HELO with a fortune cookie")
    public @interface Config {
        @AttributeDefinition(description = "The fortune program, run with -s")
        String program() default "/usr/games/fortune";

        @AttributeDefinition(description = "How long the program may take, in milliseconds, before the usual "
                + "221 goes out instead")
        long timeout_ms() default DEFAULT_TIMEOUT_MS;
    }

    private final Path program;
    private final long timeoutMillis;
    private final AtomicBoolean missingLogged = new AtomicBoolean();

    @Activate
    public QuitFortune(Config config) {
        this.program = Path.of(config.program().strip());
        if (config.timeout_ms() < 1) {
            LOG.error("configuration {}: key 'timeout.ms': {} is less than 1; using {}", PID, config.timeout_ms(),
                    DEFAULT_TIMEOUT_MS);
            this.timeoutMillis = DEFAULT_TIMEOUT_MS;
        } else {
            this.timeoutMillis = config.timeout_ms();
        }
    }

    @Override
    public HookResult onQuit(HookContext ctx) {
        // a client that says EHLO is probably too sophisticated to enjoy the fun (qpsmtpd's reasoning)
        if (ctx.session().extended()) {
            return HookResult.declined();
        }
        if (!Files.isExecutable(program)) {
            if (!missingLogged.getAndSet(true)) {
                LOG.warn("{} is not an executable program; quit_fortune gives no fortunes until it is", program);
            }
            return HookResult.declined();
        }
        Process process;
        try {
            process = new ProcessBuilder(program.toString(), "-s").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            ctx.log(LogLevel.WARN, "cannot run " + program + ": " + e.getMessage());
            return HookResult.declined();
        }
        // no thread waits for the program: the answer comes when it has ended, or when the time is up
        return HookResult.later(process.onExit().orTimeout(timeoutMillis, TimeUnit.MILLISECONDS)
                .handle((ended, failure) -> {
                    try {
                        return reply(ctx, fortune(ctx, process, failure));
                    } finally {
                        process.destroyForcibly();
                    }
                }));
    }

    private static HookResult reply(HookContext ctx, List<String> fortune) {
        if (fortune.isEmpty()) {
            return HookResult.declined();
        }
        List<String> reply = new ArrayList<>();
        reply.add(ctx.config("me", "localhost") + " closing connection.");
        fortune.forEach(line -> reply.add("  / " + line));
        return HookResult.done(221, reply.toArray(String[]::new));
    }

    /** The program's lines, or none when it failed or took too long. */
    private List<String> fortune(HookContext ctx, Process process, Throwable failure) {
        if (failure != null) {
            ctx.log(LogLevel.WARN, program + " took longer than " + timeoutMillis + " ms; no fortune");
            return List.of();
        }
        if (process.exitValue() != 0) {
            ctx.log(LogLevel.WARN, program + " exited with " + process.exitValue() + "; no fortune");
            return List.of();
        }
        // the output is far smaller than a pipe's buffer, so it waits there now that the program has ended;
        // reading only what is there never blocks, even if a child of the program still holds the pipe
        try (InputStream out = process.getInputStream()) {
            return printable(new String(out.readNBytes(Math.min(out.available(), MAX_OUTPUT)), StandardCharsets.UTF_8));
        } catch (IOException e) {
            ctx.log(LogLevel.WARN, "cannot read " + program + ": " + e.getMessage());
            return List.of();
        }
    }

    /** The output's lines, with whatever is not printable US-ASCII (RFC 5321 replies are) shown as '?'. */
    private static List<String> printable(String output) {
        return output.lines().map(line -> line.replaceAll("[^\\x20-\\x7E\\t]", "?")).toList();
    }
}
