package org.postern.smtp.plugin.virus.clamdscan.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.monitor.PeerCheck;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Scans each message with ClamAV's clamd, as qpsmtpd's {@code virus/clamdscan}: at {@code data_post} the message
 * (the header as the plugins before left it, then the body) is streamed to clamd, and the hook answers
 * {@link HookResult#later} with clamd's verdict. A virus is refused with its name ({@code deny_viruses}) or marked
 * in the header; a clean message gets X-Virus-Found and X-Virus-Checked. Every failure of clamd (not reachable, an
 * error reply, no answer within {@code timeout.ms}) gets the one answer {@code defer_on_error} chooses. As a
 * {@link PeerCheck} it tells health checks whether clamd answers PING.
 */
@Component(service = {DataPostHook.class, PeerCheck.class}, configurationPid = ClamdScan.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = ClamdScan.Config.class)
@PosternPlugin("virus/clamdscan")
@PosternHook("data_post")
@HookOrder(480)
public final class ClamdScan implements DataPostHook, PeerCheck {
    static final String PID = "org.postern.smtp.plugin.virus.clamdscan";
    private static final List<String> FIELDS = List.of("X-Virus-Found", "X-Virus-Details", "X-Virus-Checked");
    private static final Pattern MULTIPART = Pattern.compile("\\bmultipart/.*\\bboundary=\"?([^\"]+)", Pattern.CASE_INSENSITIVE);

    @ObjectClassDefinition(name = "Postern plugin: virus/clamdscan", description = "Scans messages for viruses with ClamAV's clamd")
    public @interface Config {
        @AttributeDefinition(description = "clamd's Unix domain socket (LocalSocket in clamd.conf); used unless clamd_port is set")
        String clamd__socket() default "/var/run/clamav/clamd.ctl";

        @AttributeDefinition(description = "The host clamd listens on for TCP (TCPAddr in clamd.conf)")
        String clamd__host() default "localhost";

        @AttributeDefinition(description = "clamd's TCP port (TCPSocket in clamd.conf, usually 3310); when set, TCP is used instead of clamd_socket")
        int clamd__port() default 0;

        @AttributeDefinition(description = "yes: refuse a message with a virus, naming it; no: accept it with X-Virus-Found: Yes and "
                + "X-Virus-Details")
        String deny__viruses() default "yes";

        @AttributeDefinition(description = "How a virus is refused: perm (552), temp (452), disconnect, temp_disconnect")
        String reject__type() default "perm";

        @AttributeDefinition(description = "What a message gets when clamd fails (cannot be reached, answers an error, or not in "
                + "time): yes defers it (451), no accepts it unscanned with X-Virus-Found: Unknown")
        String defer__on__error() default "no";

        @AttributeDefinition(description = "Messages larger than this many kilobytes are not scanned; 0: no limit")
        int max__size() default 1024;

        @AttributeDefinition(description = "1: scan every message; 0: only multipart messages (with a boundary)")
        String scan__all() default "1";

        @AttributeDefinition(description = "Milliseconds a scan may take, from connecting to the verdict; keep it under the "
                + "core's hook.timeout, or the core answers first")
        int timeout_ms() default 20_000;

        @AttributeDefinition(description = "Milliseconds the connection to clamd may take (within timeout.ms)")
        int connect_timeout_ms() default 2_000;
    }

    private final Clamd clamd;
    private final boolean denyViruses;
    private final ReturnCode rejectType;
    private final boolean deferOnError;
    private final long maxSize;
    private final boolean scanAll;

    @Activate
    public ClamdScan(Config config) {
        if (config.timeout_ms() <= 0 || config.connect_timeout_ms() <= 0) {
            throw new IllegalArgumentException("timeout.ms and connect.timeout.ms must be positive");
        }
        clamd = config.clamd__port() > 0
                ? Clamd.tcp(config.clamd__host().strip(), config.clamd__port(), config.connect_timeout_ms(), config.timeout_ms())
                : Clamd.unix(Path.of(config.clamd__socket().strip()), config.connect_timeout_ms(), config.timeout_ms());
        denyViruses = yes(config.deny__viruses());
        rejectType = PluginConventions.rejectType(config.reject__type(), ReturnCode.DENY);
        deferOnError = yes(config.defer__on__error());
        maxSize = Math.max(0, config.max__size()) * 1024L;
        scanAll = yes(config.scan__all());
    }

    /** qpsmtpd's yes/no options: "no" is false as well as Perl's false values. */
    private static boolean yes(String option) {
        return PluginConventions.perlTrue(option) && !option.strip().equalsIgnoreCase("no");
    }

    @Deactivate
    void deactivate() {
        clamd.close();
    }

    @Override
    public String peer() {
        return "clamd " + clamd.where();
    }

    @Override
    public CompletionStage<String> probe(Duration timeout) {
        return clamd.ping(timeout);
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        if (ctx.session().notes().get(SharedNotes.NAUGHTY).filter(text -> !text.isBlank()).isPresent()) {
            ctx.log(LogLevel.INFO, "skip, naughty");
            return HookResult.declined();
        }
        long size = ctx.transaction().size();
        if (maxSize > 0 && size > maxSize) {
            ctx.log(LogLevel.INFO, "skip, too big (" + size + ")");
            return HookResult.declined();
        }
        if (!scanAll && !multipart(ctx.transaction().header().orElse(null))) {
            ctx.log(LogLevel.NOTICE, "skip, not multipart");
            return HookResult.declined();
        }
        InputStream message;
        try {
            message = ctx.transaction().message();
        } catch (IOException e) {
            return failed(ctx, e);
        }
        return HookResult.later(clamd.scan(message).handle((answer, error) -> error == null ? judge(ctx, answer) : failed(ctx, error)));
    }

    private static boolean multipart(MessageHeader header) {
        return header != null && header.get("Content-Type").stream().findFirst()
                .filter(type -> MULTIPART.matcher(type.replaceAll("\\s", " ")).find()).isPresent();
    }

    private HookResult judge(HookContext ctx, ClamdAnswer answer) {
        return switch (answer.outcome()) {
            case TOO_LARGE -> {
                ctx.log(LogLevel.WARN, "skip, over clamd's StreamMaxLength (" + ctx.transaction().size() + "): max_size is larger");
                yield HookResult.declined();
            }
            case CLEAN -> {
                ctx.log(LogLevel.INFO, "pass, clean");
                mark(ctx, "X-Virus-Found", "No", "X-Virus-Checked", "by " + answer.engine() + " on " + ctx.config("me", "localhost"));
                yield HookResult.declined();
            }
            case INFECTED -> {
                ctx.log(LogLevel.NOTICE, "fail, found virus " + answer.virus());
                PluginConventions.adjustKarma(ctx, -1);
                if (denyViruses) {
                    yield HookResult.of(rejectType, "Virus found: " + answer.virus());
                }
                mark(ctx, "X-Virus-Found", "Yes", "X-Virus-Details", answer.virus());
                yield HookResult.declined();
            }
        };
    }

    /** Every failure of clamd, and of reading the message, ends here. */
    private HookResult failed(HookContext ctx, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        ctx.log(LogLevel.ERROR, "scan failed, clamd at " + clamd.where() + ": " + describe(cause)
                + (deferOnError ? "; deferred" : "; accepted unscanned"));
        if (deferOnError) {
            return HookResult.denySoft("Unable to scan for viruses").withReplyCode(451).withEnhancedStatus("4.3.0");
        }
        mark(ctx, "X-Virus-Found", "Unknown", "X-Virus-Details", "not scanned, clamd failed");
        return HookResult.declined();
    }

    /** I/O errors and timeouts say enough in their message; anything else is named by its class too. */
    private static String describe(Throwable cause) {
        boolean plain = (cause instanceof IOException || cause instanceof TimeoutException) && cause.getMessage() != null;
        return plain ? cause.getMessage() : cause.toString();
    }

    /**
     * Writes the two fields at the top of the header, the second above the first as qpsmtpd inserts them, after
     * removing the X-Virus fields the message came with: only this server's say about viruses is left.
     */
    private static void mark(HookContext ctx, String first, String firstValue, String second, String secondValue) {
        MessageHeader header = ctx.transaction().header().orElseThrow();
        FIELDS.forEach(header::remove);
        header.prepend(first, firstValue);
        header.prepend(second, secondValue);
    }
}
