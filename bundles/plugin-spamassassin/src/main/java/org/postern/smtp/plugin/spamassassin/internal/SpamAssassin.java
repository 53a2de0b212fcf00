package org.postern.smtp.plugin.spamassassin.internal;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.Recipient;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.monitor.PeerCheck;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.HookTimeout;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores each message with SpamAssassin's spamd, as qpsmtpd's {@code spamassassin}: at {@code data_post} the message
 * is streamed to spamd, and the hook answers {@link HookResult#later} with spamd's verdict, so no thread waits for it.
 * SpamAssassin's X-Spam fields go into the header (those the message came with renamed, dropped or kept), the
 * subject is marked above {@code munge_subject_threshold}, the message is refused at {@code reject}, and the
 * {@code spamassassin} note tells later plugins the result. Every failure of spamd gets the one answer
 * {@code spamd_down} chooses. As a {@link PeerCheck} it tells health checks whether spamd answers PING.
 */
@Component(service = {DataPostHook.class, PeerCheck.class}, configurationPid = SpamAssassin.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = SpamAssassin.Config.class)
@PosternPlugin("spamassassin")
@PosternHook("data_post")
@HookOrder(500)
@HookTimeout(SpamAssassin.HOOK_TIMEOUT)
public final class SpamAssassin implements DataPostHook, PeerCheck {
    static final String PID = "org.postern.smtp.plugin.spamassassin";
    static final int HOOK_TIMEOUT = 30;
    /**
     * qpsmtpd's transaction note {@code spamassassin}: the fields of X-Spam-Status as a {@code Map<String, String>}
     * ({@code is_spam} Yes or No, {@code score}, {@code required}, {@code tests}, {@code autolearn}, {@code version}).
     */
    @SuppressWarnings("rawtypes")
    static final NoteKey<Map> NOTE = NoteKey.of("spamassassin", Map.class);
    /** Time the core needs around the plugin's own timeouts: the hook timeout counts from the call's queueing. */
    private static final int MARGIN_MILLIS = 1000;
    private static final Logger LOG = LoggerFactory.getLogger(SpamAssassin.class);

    /** Keys are qpsmtpd's option names: a double underscore in a method name is an underscore. */
    @ObjectClassDefinition(name = "Postern plugin: spamassassin", description = "Scores messages with SpamAssassin's spamd")
    public @interface Config {
        @AttributeDefinition(description = "Refuse messages scoring at least this much; 0: never")
        double reject() default 0;

        @AttributeDefinition(description = "How a message over reject is refused: perm (552), temp (452), disconnect (552, then "
                + "the connection is closed), temp_disconnect")
        String reject__type() default "perm";

        @AttributeDefinition(description = "Prefix the subject of spam scoring more than this with subject_prefix; 0: never")
        double munge__subject__threshold() default 0;

        @AttributeDefinition(description = "What munge_subject_threshold puts before the subject")
        String subject__prefix() default "*** SPAM ***";

        @AttributeDefinition(description = "spamd's address: host:port, or the path of its Unix domain socket")
        String spamd__socket() default "127.0.0.1:783";

        @AttributeDefinition(description = "none: add no X-Spam fields (the note and reject still work)")
        String headers() default "";

        @AttributeDefinition(description = "X-Spam fields the message came with: rename (to X-Old-Spam-…), drop or keep")
        String leave__old__headers() default "rename";

        @AttributeDefinition(description = "The user spamd scores for; empty: the user the server runs as. vpopmail: a message "
                + "with one recipient is scored for the recipient's address (per-user preferences)")
        String spamd__user() default "";

        @AttributeDefinition(description = "skip: do not scan the mail of relay clients (authenticated, or in relayclients) and "
                + "whitelisted hosts and senders; scan: scan it too")
        String relayclient() default "skip";

        @AttributeDefinition(description = "When spamd fails (not reachable, an error answer, no answer in time): pass the message "
                + "unscanned, or defer it (451)")
        String spamd__down() default "pass";

        @AttributeDefinition(description = "Messages larger than this many octets are not scanned (spamc's default)")
        int max_size() default 512_000;

        @AttributeDefinition(description = "Milliseconds connecting to spamd may take")
        int connect_timeout_ms() default 2_000;

        @AttributeDefinition(description = "Milliseconds spamd may take, once connected, to read the message and answer; with "
                + "connect.timeout.ms it must stay a second under postern.hook.timeout, or it is shortened")
        int timeout_ms() default 20_000;

        @AttributeDefinition(description = "Seconds the core waits for this plugin before answering 451")
        int postern_hook_timeout() default HOOK_TIMEOUT;
    }

    private final Spamd spamd;
    private final double reject;
    private final ReturnCode rejectType;
    private final double mungeThreshold;
    private final String subjectPrefix;
    private final boolean addHeaders;
    private final String leaveOldHeaders;
    private final String spamdUser;
    private final boolean skipImmune;
    private final boolean deferWhenDown;
    private final long maxSize;

    @Activate
    public SpamAssassin(Config config) {
        reject = config.reject();
        rejectType = PluginConventions.rejectType(choice("reject_type", config.reject__type(),
                List.of("perm", "hard", "temp", "soft", "disconnect", "temp_disconnect"), "perm"), ReturnCode.DENY);
        mungeThreshold = config.munge__subject__threshold();
        subjectPrefix = config.subject__prefix();
        addHeaders = !choice("headers", config.headers(), List.of("", "none"), "").equals("none");
        leaveOldHeaders = choice("leave_old_headers", config.leave__old__headers(), List.of("rename", "drop", "keep"), "rename");
        spamdUser = config.spamd__user().isBlank() ? System.getProperty("user.name") : config.spamd__user().strip();
        skipImmune = choice("relayclient", config.relayclient(), List.of("skip", "scan"), "skip").equals("skip");
        deferWhenDown = choice("spamd_down", config.spamd__down(), List.of("pass", "defer"), "pass").equals("defer");
        maxSize = positive("max.size", config.max_size(), 512_000);
        int connectTimeout = positive("connect.timeout.ms", config.connect_timeout_ms(), 2_000);
        int timeout = positive("timeout.ms", config.timeout_ms(), 20_000);
        long budget = positive("postern.hook.timeout", config.postern_hook_timeout(), HOOK_TIMEOUT) * 1000L - MARGIN_MILLIS;
        if (connectTimeout + (long) timeout > budget) {
            connectTimeout = (int) Math.min(connectTimeout, budget / 2);
            int shortened = (int) (budget - connectTimeout);
            LOG.warn("configuration {}: connect.timeout.ms {} and timeout.ms {} do not fit in postern.hook.timeout {} s with a second "
                    + "to spare; using {} and {}", PID, config.connect_timeout_ms(), timeout, config.postern_hook_timeout(),
                    connectTimeout, shortened);
            timeout = shortened;
        }
        Spamd client;
        try {
            client = new Spamd(config.spamd__socket(), connectTimeout, timeout);
        } catch (IllegalArgumentException e) {
            LOG.error("configuration {}: key 'spamd_socket' must be host:port or a socket path, not '{}'; using 127.0.0.1:783",
                    PID, config.spamd__socket());
            client = new Spamd("127.0.0.1:783", connectTimeout, timeout);
        }
        spamd = client;
    }

    /** The value if it is one of those allowed (case does not matter), else the fallback, logged. */
    private static String choice(String key, String value, List<String> allowed, String fallback) {
        String option = value.strip().toLowerCase(Locale.ROOT);
        if (allowed.contains(option)) {
            return option;
        }
        LOG.error("configuration {}: key '{}' must be one of {}, not '{}'; using '{}'", PID, key, allowed, value, fallback);
        return fallback;
    }

    private static int positive(String key, int value, int fallback) {
        if (value > 0) {
            return value;
        }
        LOG.error("configuration {}: key '{}' must be positive, not {}; using {}", PID, key, value, fallback);
        return fallback;
    }

    @Deactivate
    void deactivate() {
        spamd.close();
    }

    @Override
    public String peer() {
        return "spamd " + spamd.where();
    }

    @Override
    public CompletionStage<String> probe(Duration timeout) {
        return spamd.ping(timeout);
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        if (skipImmune && PluginConventions.isImmune(ctx)) {
            return HookResult.declined();
        }
        long size = ctx.transaction().size();
        if (size > maxSize) {
            ctx.log(LogLevel.INFO, "skip, too large (" + size + ")");
            return HookResult.declined();
        }
        String user = spamdUser(ctx.transaction().recipients());
        String sender = ctx.transaction().sender().map(Address::format).orElse("<>");
        InputStream message;
        try {
            message = ctx.transaction().message();
        } catch (IOException e) {
            return failed(ctx, e);
        }
        return HookResult.later(spamd.check(user, sender, message, maxSize)
                .handle((answer, error) -> error == null ? judge(ctx, answer, user) : failed(ctx, error)));
    }

    /** qpsmtpd's per-user preferences: with spamd_user vpopmail, a message for one recipient is scored as that recipient's. */
    private String spamdUser(List<Recipient> recipients) {
        return recipients.size() == 1 && spamdUser.equals("vpopmail") ? recipients.get(0).address().address() : spamdUser;
    }

    private HookResult judge(HookContext ctx, SpamdAnswer answer, String user) {
        Map<String, String> note = answer.note();
        ctx.transaction().notes().put(NOTE, note);
        if (addHeaders) {
            ctx.transaction().header().ifPresent(header -> {
                writeFields(ctx, header, answer, user);
                if (mungeThreshold != 0 && answer.score() > answer.required() && answer.score() > mungeThreshold) {
                    mungeSubject(header);
                }
            });
        }
        return verdict(ctx, answer, note.getOrDefault("autolearn", ""));
    }

    /**
     * SpamAssassin's fields at the top of the header, in its order, after the ones the message came with were dealt
     * with as leave_old_headers says; between them X-Spam-User for a message with several recipients, which spamd
     * scored with the default user's preferences, not theirs.
     */
    private void writeFields(HookContext ctx, MessageHeader header, SpamdAnswer answer, String user) {
        Set<String> names = new LinkedHashSet<>();
        names.add("X-Spam-User");
        answer.fields().forEach(field -> names.add(field.name()));
        names.forEach(name -> leaveOld(header, name));
        int recipients = ctx.transaction().recipients().size();
        if (recipients > 1) {
            header.prepend("X-Spam-User", user + ", " + recipients + " recipients");
        }
        List<HeaderField> fields = answer.fields();
        for (int i = fields.size() - 1; i >= 0; i--) {
            header.prepend(fields.get(i).name(), HeaderFolding.fold(fields.get(i).name(), fields.get(i).value()));
        }
    }

    /** qpsmtpd's rename: X-Spam-Status becomes X-Old-Spam-Status, at the top of the header. */
    private void leaveOld(MessageHeader header, String name) {
        if (leaveOldHeaders.equals("keep")) {
            return;
        }
        List<String> values = new ArrayList<>();
        for (HeaderField field : header.fields()) {
            if (field.name().equalsIgnoreCase(name)) {
                values.add(field.value().strip());
            }
        }
        header.remove(name);
        if (leaveOldHeaders.equals("rename")) {
            String old = name.regionMatches(true, 0, "X-", 0, 2) ? "X-Old-" + name.substring(2) : "Old-" + name;
            values.forEach(value -> header.prepend(old, HeaderFolding.fold(old, value)));
        }
    }

    private void mungeSubject(MessageHeader header) {
        String subject = header.fields().stream().filter(field -> field.name().equalsIgnoreCase("Subject")).findFirst()
                .map(field -> field.value().strip()).orElse("");
        String munged = (subjectPrefix + " " + subject).strip();
        header.set("Subject", HeaderFolding.fold("Subject", munged));
    }

    /** qpsmtpd's karma and reject: spam lowers the client's karma, and a score at reject or above refuses the message. */
    private HookResult verdict(HookContext ctx, SpamdAnswer answer, String autolearn) {
        String status = String.format(Locale.ROOT, "%s, %.1f", answer.spam() ? "Spam" : "Ham", answer.score());
        String learn = autolearn.isEmpty() ? "" : ", learn=" + autolearn;
        if (answer.spam()) {
            PluginConventions.adjustKarma(ctx, -1);
        }
        if (autolearn.equals("ham") || autolearn.equals("spam")) {
            PluginConventions.adjustKarma(ctx, autolearn.equals("ham") ? 1 : -1);
        }
        if (reject == 0 || answer.score() < reject) {
            ctx.log(LogLevel.INFO, (answer.spam() ? "fail, tolerated, " : "pass, ") + status
                    + (reject == 0 ? ", reject disabled" : " < " + reject) + learn);
            return HookResult.declined();
        }
        ctx.log(LogLevel.INFO, "fail, " + status + " >= " + reject + learn);
        return HookResult.of(rejectType, "spam score exceeded threshold");
    }

    /** Every failure of spamd, and of reading the message, ends here. */
    private HookResult failed(HookContext ctx, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof Spamd.TooLarge) {
            ctx.log(LogLevel.INFO, "skip, too large (" + cause.getMessage() + ")");
            return HookResult.declined();
        }
        ctx.log(LogLevel.WARN, "spamd at " + spamd.where() + " failed: " + describe(cause)
                + (deferWhenDown ? "; deferred" : "; passed unscanned"));
        if (deferWhenDown) {
            return HookResult.denySoft("Unable to scan for spam").withReplyCode(451).withEnhancedStatus("4.3.0");
        }
        return HookResult.declined();
    }

    private static String describe(Throwable cause) {
        if (cause instanceof RejectedExecutionException) {
            return "too many messages on their way to spamd at once";
        }
        return (cause instanceof IOException || cause instanceof TimeoutException) && cause.getMessage() != null
                ? cause.getMessage() : cause.toString();
    }
}
