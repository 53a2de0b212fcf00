package org.postern.smtp.plugin.authcheckpassword.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.AuthContext;
import org.postern.smtp.api.AuthHook;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * qpsmtpd's {@code auth/auth_checkpassword}: checks AUTH PLAIN and LOGIN credentials with a checkpassword program
 * (cr.yp.to/checkpwd/interface.html) such as vpopmail's vchkpw. The program reads user, password and timestamp,
 * each ended by NUL, on descriptor 3, and runs its argument and exits 0 for a good password, 1 for a bad one, 111
 * for a temporary failure. No thread waits for it: the hook answers when it exits, or when its time is up.
 */
@Component(service = AuthHook.class, configurationPid = AuthCheckpassword.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = AuthCheckpassword.Config.class)
@PosternPlugin("auth_checkpassword")
@PosternHook({"auth-plain", "auth-login"})
@HookOrder(130)
public final class AuthCheckpassword implements AuthHook {
    static final String PID = "org.postern.smtp.plugin.auth_checkpassword";
    /**
     * Java gives a program descriptors 0 to 2 only, so the shell hands it standard input as descriptor 3 as well,
     * as qpsmtpd does ({@code 3<&0}). {@code exec} leaves no shell behind: the process Java holds is the program. The
     * two paths are the shell's {@code $0} and {@code $1}, never part of the command text.
     */
    private static final String WITH_FD3 = "exec \"$0\" \"$1\" 3<&0";
    /** The interface's third field is for challenge-response schemes; PLAIN and LOGIN have none. qpsmtpd sends this. */
    private static final String TIMESTAMP = "Y123456";
    /** The interface allows at most 512 bytes before end of file; it also keeps the write within a pipe's buffer. */
    static final int MAX_INPUT = 512;

    @ObjectClassDefinition(name = "Postern plugin: auth_checkpassword",
            description = "Checks AUTH PLAIN and LOGIN credentials with a checkpassword program")
    public @interface Config {
        @AttributeDefinition(description = "The checkpassword program, e.g. /usr/local/vpopmail/bin/vchkpw")
        String checkpw();

        @AttributeDefinition(description = "The program checkpw runs when the password is good")
        String $true() default "/bin/true";

        @AttributeDefinition(description = "Seconds the program may take; then it is killed and the client gets 454. "
                + "Keep it under the core's hook.timeout")
        int timeout() default 10;

        @AttributeDefinition(description = "Programs running at once; an AUTH beyond them gets 454 at once")
        int max_processes() default 8;
    }

    private final Path checkpw;
    private final Path next;
    private final int timeoutSeconds;
    private final int maxProcesses;
    private final Semaphore running;

    @Activate
    public AuthCheckpassword(Config config) {
        if (config.checkpw() == null || config.checkpw().isBlank()) {
            throw new IllegalArgumentException("configuration " + PID + ": key 'checkpw' (the checkpassword program) is required");
        }
        if (config.timeout() < 1 || config.max_processes() < 1) {
            throw new IllegalArgumentException("configuration " + PID + ": keys 'timeout' and 'max.processes' must be at least 1, not "
                    + config.timeout() + " and " + config.max_processes());
        }
        this.checkpw = Path.of(config.checkpw().strip());
        this.next = Path.of(config.$true().strip());
        this.timeoutSeconds = config.timeout();
        this.maxProcesses = config.max_processes();
        this.running = new Semaphore(maxProcesses);
    }

    @Override
    public HookResult onAuth(AuthContext ctx) {
        String user = ctx.user();
        if (ctx.clearPassword().isEmpty()) {
            // CRAM-MD5 brings a digest, which a checkpassword program cannot check; another plugin may
            ctx.log(LogLevel.INFO, "skip: " + ctx.mechanism() + " gives no clear password to check");
            return HookResult.declined();
        }
        String password = ctx.clearPassword().get();
        if (user.indexOf('\0') >= 0 || password.indexOf('\0') >= 0) {
            // NUL ends each field: LOGIN as "alice\0secret" would have the program check alice, and the session
            // would then be authenticated under a name that is not hers
            ctx.log(LogLevel.INFO, "fail: NUL in the user name or password of " + user.replace('\0', '?'));
            return HookResult.deny("NUL in credentials");
        }
        byte[] input = (user + '\0' + password + '\0' + TIMESTAMP + '\0').getBytes(StandardCharsets.UTF_8);
        if (input.length > MAX_INPUT) {
            ctx.log(LogLevel.INFO, "skip: the credentials of " + user + " are longer than a checkpassword program takes");
            return HookResult.declined();
        }
        for (Path program : List.of(checkpw, next)) {
            if (!Files.isExecutable(program)) {
                ctx.log(LogLevel.ERROR, "skip: " + program + " is not an executable program");
                return HookResult.denySoft("Authentication backend unavailable");
            }
        }
        if (!running.tryAcquire()) {
            ctx.log(LogLevel.WARN, "skip: " + maxProcesses + " checkpassword programs already running; " + user + " told to try again later");
            return HookResult.denySoft("Authentication backend busy");
        }
        Process process;
        try {
            process = new ProcessBuilder("/bin/sh", "-c", WITH_FD3, checkpw.toString(), next.toString())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            running.release();
            ctx.log(LogLevel.ERROR, "skip: cannot run " + checkpw + ": " + e.getMessage());
            return HookResult.denySoft("Authentication backend unavailable");
        }
        // each onExit() is a stage of its own: the permit comes back when the program has ended, not when the
        // answer below gives up on it
        process.onExit().whenComplete((ended, error) -> running.release());
        try (OutputStream fd3 = process.getOutputStream()) {
            // at most 512 bytes, which fit in a pipe's buffer: written at once, whether the program reads yet or not
            fd3.write(input);
        } catch (IOException ignored) {
            // the program ended, or closed descriptor 3, without reading it all; its exit status tells why
        }
        return HookResult.later(process.onExit().orTimeout(timeoutSeconds, TimeUnit.SECONDS).handle((ended, timedOut) -> {
            if (timedOut != null) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                ctx.log(LogLevel.ERROR, "skip: " + checkpw + " did not exit within " + timeoutSeconds + " s; killed");
                return HookResult.denySoft("Authentication backend unavailable");
            }
            return verdict(ctx, process.exitValue());
        }));
    }

    /** The exit status as the checkpassword interface defines it, and the shell's for a program it could not run. */
    private HookResult verdict(AuthContext ctx, int status) {
        String user = ctx.user();
        return switch (status) {
            case 0 -> {
                ctx.log(LogLevel.INFO, "pass: " + user + " with " + ctx.mechanism().toUpperCase(Locale.ROOT));
                yield HookResult.ok();
            }
            case 1 -> {
                ctx.log(LogLevel.INFO, "fail: " + checkpw + " refused " + user);
                yield HookResult.deny("wrong password");
            }
            case 111 -> {
                ctx.log(LogLevel.WARN, "skip: " + checkpw + " failed temporarily for " + user + " (exit 111)");
                yield HookResult.denySoft("Authentication backend unavailable");
            }
            case 126, 127 -> {
                // the shell's "cannot execute" and "not found": from our shell, or from a script among the programs
                ctx.log(LogLevel.ERROR, "skip: " + checkpw + " or " + next + " could not be run (exit " + status + ")");
                yield HookResult.denySoft("Authentication backend unavailable");
            }
            default -> {
                // misuse (2) or a status of the program's own: another plugin may know the user, as in qpsmtpd
                ctx.log(LogLevel.NOTICE, "fail: " + checkpw + " exited with " + status + " for " + user);
                yield HookResult.declined();
            }
        };
    }
}
