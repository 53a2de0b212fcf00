package org.postern.smtp.plugin.rspamd.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
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
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.Recipient;
import org.postern.smtp.api.Session;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.Transaction;
import org.postern.smtp.api.monitor.PeerCheck;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.HookTimeout;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scans each message with rspamd, as Haraka's rspamd plugin: at {@code data_post} the message is streamed to rspamd's
 * {@code /checkv2}, and the hook answers {@link HookResult#later} with rspamd's action mapped to a reply: reject (550),
 * soft reject and greylist (451), rewrite subject, add header, no action. A message that passes gets the fields rspamd
 * asks for (milter headers, DKIM signature) and Haraka's X-Rspamd fields. A failure of rspamd defers the message or
 * lets it pass, marked, as {@code defer.error} and {@code defer.timeout} say. As a {@link PeerCheck} it tells health
 * checks whether rspamd answers {@code /ping}.
 */
@Component(service = {DataPostHook.class, PeerCheck.class}, configurationPid = Rspamd.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = Rspamd.Config.class)
@PosternPlugin("rspamd")
@PosternHook("data_post")
@HookOrder(510)
@HookTimeout(Rspamd.HOOK_TIMEOUT)
public final class Rspamd implements DataPostHook, PeerCheck {
    static final String PID = "org.postern.smtp.plugin.rspamd";
    static final int HOOK_TIMEOUT = 30;
    /** Time the core needs around the plugin's own timeout: the hook timeout counts from the call's queueing. */
    private static final int MARGIN_MILLIS = 1000;
    private static final Logger LOG = LoggerFactory.getLogger(Rspamd.class);

    /**
     * Keys are Haraka's (rspamd.ini, its sections as prefixes): a double underscore in a method name is an underscore,
     * a single one a dot.
     */
    @ObjectClassDefinition(name = "Postern plugin: rspamd", description = "Scans messages with rspamd")
    public @interface Config {
        @AttributeDefinition(description = "rspamd's normal worker: host name or address")
        String host() default "localhost";

        @AttributeDefinition(description = "rspamd's normal worker: port")
        int port() default 11333;

        @AttributeDefinition(description = "Seconds the whole scan may take (connecting, sending, rspamd's answer); it must stay "
                + "a second under postern.hook.timeout, or it is shortened")
        int timeout() default HOOK_TIMEOUT - 1;

        @AttributeDefinition(description = "Milliseconds connecting to rspamd may take")
        int connect_timeout_ms() default 2_000;

        @AttributeDefinition(description = "When to add the X-Rspamd fields: sometimes (when rspamd's action says spam), always, never")
        AddHeaders add__headers() default AddHeaders.sometimes;

        @AttributeDefinition(description = "Field for the spam bar; empty: none")
        String header_bar() default "X-Rspamd-Bar";

        @AttributeDefinition(description = "Field for the symbols that scored; empty: none")
        String header_report() default "X-Rspamd-Report";

        @AttributeDefinition(description = "Field for the score; empty: none")
        String header_score() default "X-Rspamd-Score";

        @AttributeDefinition(description = "Field that marks a message let through unscanned when rspamd failed; empty: none")
        String header_error() default "X-Rspamd-Error";

        @AttributeDefinition(description = "Spam bar: one of these per point of score")
        String spambar_positive() default "+";

        @AttributeDefinition(description = "Spam bar: one of these per point below zero")
        String spambar_negative() default "-";

        @AttributeDefinition(description = "Spam bar: the score is between -1 and 1")
        String spambar_neutral() default "/";

        @AttributeDefinition(description = "Scan the mail of authenticated clients")
        boolean check_authenticated() default false;

        @AttributeDefinition(description = "Scan the mail of relay clients (a plugin let them relay)")
        boolean check_relay() default false;

        @AttributeDefinition(description = "Scan the mail of clients on a loopback address")
        boolean check_local__ip() default false;

        @AttributeDefinition(description = "Scan the mail of clients on private addresses (RFC 1918, RFC 4193, link-local, loopback)")
        boolean check_private__ip() default false;

        @AttributeDefinition(description = "Refuse messages rspamd says to reject (550)")
        boolean reject_spam() default true;

        @AttributeDefinition(description = "Refuse them also from authenticated clients")
        boolean reject_authenticated() default false;

        @AttributeDefinition(description = "Reply text for reject when rspamd gives none (or smtp_message.enabled is false)")
        String reject_message() default "Detected as spam";

        @AttributeDefinition(description = "Defer messages rspamd says to soft reject (451)")
        boolean soft__reject_enabled() default true;

        @AttributeDefinition(description = "Reply text for soft reject when rspamd gives none")
        String soft__reject_message() default "Deferred by policy";

        @AttributeDefinition(description = "Defer messages rspamd says to greylist (451); false: let them pass")
        boolean greylist_enabled() default true;

        @AttributeDefinition(description = "Reply text for greylist when rspamd gives none")
        String greylist_message() default "Try again later";

        @AttributeDefinition(description = "Rewrite the subject when rspamd says rewrite subject")
        boolean rewrite__subject_enabled() default true;

        @AttributeDefinition(description = "The new subject when rspamd gives none; %s is the old one")
        String subject() default "[SPAM] %s";

        @AttributeDefinition(description = "Apply rspamd's milter block: remove_headers, then add_headers")
        boolean rmilter__headers_enabled() default true;

        @AttributeDefinition(description = "Use rspamd's messages.smtp_message as the reply text")
        boolean smtp__message_enabled() default true;

        @AttributeDefinition(description = "Add the DKIM-Signature fields rspamd's dkim_signing module returns")
        boolean dkim_enabled() default true;

        @AttributeDefinition(description = "When rspamd cannot be reached or answers something else: defer (451) or, false, let "
                + "the message pass marked by header.error")
        boolean defer_error() default false;

        @AttributeDefinition(description = "When rspamd does not answer within timeout: defer (451) or, false, let the message pass")
        boolean defer_timeout() default false;

        @AttributeDefinition(description = "Settings-ID request header: the rspamd settings to scan with; empty: none")
        String request_settings__id() default "";

        @AttributeDefinition(description = "Messages larger than this many octets are not scanned (rspamd's own max_message)")
        long max_size() default 50L << 20;

        @AttributeDefinition(description = "Seconds the core waits for this plugin before answering 451")
        int postern_hook_timeout() default HOOK_TIMEOUT;
    }

    /** Haraka's values, as they are written in the configuration. */
    public enum AddHeaders {
        sometimes, always, never
    }

    private final Config config;
    private final AddHeaders addHeaders;
    private final RspamdClient rspamd;
    private final long timeoutMillis;

    @Activate
    public Rspamd(Config config) {
        if (config.timeout() <= 0 || config.connect_timeout_ms() <= 0 || config.postern_hook_timeout() <= 0) {
            throw new IllegalArgumentException("configuration " + PID + ": timeout, connect.timeout.ms and postern.hook.timeout "
                    + "must be positive");
        }
        this.config = config;
        // read now, so that a value that is not one of the choices stops the activation rather than a scan
        addHeaders = config.add__headers();
        long budget = config.postern_hook_timeout() * 1000L - MARGIN_MILLIS;
        long timeout = config.timeout() * 1000L;
        if (timeout > budget) {
            LOG.warn("configuration {}: timeout {} s does not fit in postern.hook.timeout {} s with a second to spare; using {} ms",
                    PID, config.timeout(), config.postern_hook_timeout(), budget);
            timeout = budget;
        }
        timeoutMillis = timeout;
        rspamd = new RspamdClient(config.host().strip(), config.port(), Duration.ofMillis(Math.min(config.connect_timeout_ms(), timeout)),
                Duration.ofMillis(timeout));
    }

    @Deactivate
    void deactivate() {
        rspamd.close();
    }

    @Override
    public String peer() {
        return "rspamd " + rspamd.where();
    }

    @Override
    public CompletionStage<String> probe(Duration timeout) {
        return rspamd.ping(timeout);
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        String skip = skipReason(ctx.session());
        if (skip != null) {
            ctx.log(LogLevel.INFO, "skip, " + skip);
            return HookResult.declined();
        }
        long size = ctx.transaction().size();
        if (size > config.max_size()) {
            ctx.log(LogLevel.INFO, "skip, too large (" + size + " > max.size " + config.max_size() + ")");
            return HookResult.declined();
        }
        InputStream message;
        try {
            message = ctx.transaction().message();
        } catch (IOException e) {
            return failed(ctx, e);
        }
        return HookResult.later(rspamd.check(requestHeaders(ctx), message)
                .handle((answer, error) -> error == null ? judge(ctx, answer) : failed(ctx, error)));
    }

    /** Haraka's should_check: why this client's mail is not scanned, or null. Local addresses are private ones too. */
    private String skipReason(Session session) {
        if (!config.check_authenticated() && session.authenticatedUser().isPresent()) {
            return "authenticated";
        }
        if (!config.check_relay() && session.notes().get(SharedNotes.RELAY_CLIENT).orElse(false)) {
            return "relay client";
        }
        InetAddress address = session.remoteAddress().getAddress();
        boolean local = address.isLoopbackAddress();
        if (!config.check_local__ip() && local) {
            return "local_ip";
        }
        if (!config.check_private__ip() && !local && isPrivate(address)) {
            return "private_ip";
        }
        return null;
    }

    private static boolean isPrivate(InetAddress address) {
        boolean uniqueLocal = address instanceof Inet6Address && (address.getAddress()[0] & 0xfe) == 0xfc;
        return address.isSiteLocalAddress() || address.isLinkLocalAddress() || uniqueLocal;
    }

    /** What rspamd's protocol lets the MTA tell about the message, as Haraka sends it. */
    private Map<String, List<String>> requestHeaders(HookContext ctx) {
        Session session = ctx.session();
        Transaction transaction = ctx.transaction();
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("IP", List.of(session.remoteAddress().getAddress().getHostAddress()));
        // rspamd looks the name up itself when none is given; "unknown" is its word for a client without one
        headers.put("Hostname", List.of(session.remoteHost().startsWith("[") ? "unknown" : session.remoteHost()));
        session.heloHost().ifPresent(helo -> headers.put("Helo", List.of(helo)));
        transaction.sender().ifPresent(sender -> headers.put("From", List.of(sender.isNullSender() ? "<>" : sender.address())));
        List<String> recipients = transaction.recipients().stream().map(Recipient::address).map(Address::address).toList();
        if (!recipients.isEmpty()) {
            headers.put("Rcpt", recipients);
        }
        if (recipients.size() == 1) {
            headers.put("Deliver-To", recipients);
        }
        headers.put("Queue-Id", List.of(transaction.id()));
        session.authenticatedUser().ifPresent(user -> headers.put("User", List.of(user)));
        session.tlsCipherSuite().ifPresent(cipher -> headers.put("TLS-Cipher", List.of(cipher)));
        session.tlsProtocol().ifPresent(protocol -> headers.put("TLS-Version", List.of(protocol)));
        if (!config.request_settings__id().isBlank()) {
            headers.put("Settings-ID", List.of(config.request_settings__id().strip()));
        }
        return headers;
    }

    /** Haraka's on_response: the subject first, then the reply, then, for a message that passes, the fields. */
    private HookResult judge(HookContext ctx, RspamdAnswer answer) {
        String summary = answer.action() + ", score " + FieldValues.score(answer.score()) + " / "
                + FieldValues.score(answer.requiredScore());
        ctx.transaction().header().ifPresent(header -> rewriteSubject(header, answer));
        HookResult refusal = refusal(ctx, answer);
        if (refusal != null) {
            ctx.log(LogLevel.INFO, "fail, " + summary);
            return refusal;
        }
        ctx.log(LogLevel.INFO, "pass, " + summary);
        ctx.transaction().header().ifPresent(header -> writeFields(header, answer));
        return HookResult.declined();
    }

    private void rewriteSubject(MessageHeader header, RspamdAnswer answer) {
        if (!config.rewrite__subject_enabled() || !answer.action().equals("rewrite subject")) {
            return;
        }
        String old = header.get("Subject").stream().findFirst().orElse("");
        String subject = answer.subject().orElseGet(() -> config.subject().replace("%s", old));
        header.set("Subject", FieldValues.fromRspamd(subject));
    }

    /** The reply for soft reject, greylist and reject, each as configured; null for a message that passes. */
    private HookResult refusal(HookContext ctx, RspamdAnswer answer) {
        return switch (answer.action()) {
            case "soft reject" -> config.soft__reject_enabled() ? defer(replyText(answer, config.soft__reject_message())) : null;
            case "greylist" -> config.greylist_enabled() ? defer(replyText(answer, config.greylist_message())) : null;
            case "reject" -> wantsReject(ctx) ? HookResult.deny(replyText(answer, config.reject_message()))
                    .withReplyCode(550).withEnhancedStatus("5.7.1") : null;
            default -> null;
        };
    }

    private static HookResult defer(String text) {
        return HookResult.denySoft(text).withReplyCode(451).withEnhancedStatus("4.7.1");
    }

    private boolean wantsReject(HookContext ctx) {
        return ctx.session().authenticatedUser().isPresent() ? config.reject_authenticated() : config.reject_spam();
    }

    /** rspamd's smtp_message, on one line, or the configured text. */
    private String replyText(RspamdAnswer answer, String configured) {
        return answer.smtpMessage().filter(text -> config.smtp__message_enabled() && !text.isBlank())
                .map(text -> text.replaceAll("[\r\n]+", " ").strip()).orElse(configured);
    }

    /** rspamd's milter block (removals first, so that it can replace a field), its DKIM signatures, then Haraka's fields. */
    private void writeFields(MessageHeader header, RspamdAnswer answer) {
        if (config.rmilter__headers_enabled()) {
            answer.milterRemove().forEach(header::remove);
            for (RspamdAnswer.MilterField field : answer.milterAdd()) {
                if (field.top()) {
                    header.prepend(field.name(), FieldValues.fromRspamd(field.value()));
                } else {
                    header.add(field.name(), FieldValues.fromRspamd(field.value()));
                }
            }
        }
        if (config.dkim_enabled()) {
            // a signature goes above the fields it signs (RFC 6376 5.6)
            answer.dkimSignatures().forEach(signature -> header.prepend("DKIM-Signature", FieldValues.fromRspamd(signature)));
        }
        if (wantsHeaders(answer.action())) {
            replace(header, config.header_score(), FieldValues.score(answer.score()));
            replace(header, config.header_bar(), FieldValues.bar(answer.score(), config.spambar_positive(),
                    config.spambar_negative(), config.spambar_neutral()));
            replace(header, config.header_report(), FieldValues.report(config.header_report(), answer.symbols()));
        }
    }

    /** sometimes: when the action says spam, even if this plugin lets a reject or soft reject through. */
    private boolean wantsHeaders(String action) {
        return switch (addHeaders) {
            case always -> true;
            case never -> false;
            case sometimes -> !action.equals("no action") && !action.equals("greylist");
        };
    }

    private static void replace(MessageHeader header, String name, String value) {
        if (!name.isBlank() && !value.isEmpty()) {
            header.set(name.strip(), value);
        }
    }

    /** Every failure of rspamd, and of reading the message, ends here: deferred, or passed with header.error. */
    private HookResult failed(HookContext ctx, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        boolean timedOut = cause instanceof TimeoutException || cause instanceof HttpTimeoutException;
        String why = timedOut ? "no answer within " + timeoutMillis + " ms" : describe(cause);
        boolean defer = timedOut ? config.defer_timeout() : config.defer_error();
        ctx.log(LogLevel.WARN, "rspamd at " + rspamd.where() + " failed: " + why + (defer ? "; deferred" : "; passed unscanned"));
        if (defer) {
            return HookResult.denySoft(timedOut ? "Rspamd scan timeout" : "Rspamd scan error").withReplyCode(451)
                    .withEnhancedStatus("4.3.0");
        }
        if (!config.header_error().isBlank()) {
            ctx.transaction().header().ifPresent(header -> header.set(config.header_error().strip(), "not scanned, " + why));
        }
        return HookResult.declined();
    }

    private static String describe(Throwable cause) {
        String message = cause.getMessage();
        if (cause instanceof ConnectException && (message == null || message.isBlank())) {
            return "connection refused";
        }
        return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message.replaceAll("[\r\n]+", " ");
    }
}
