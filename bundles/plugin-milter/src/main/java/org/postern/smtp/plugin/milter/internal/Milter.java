package org.postern.smtp.plugin.milter.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.ConnectHook;
import org.postern.smtp.api.DataHook;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.DisconnectHook;
import org.postern.smtp.api.EhloHook;
import org.postern.smtp.api.HeloContext;
import org.postern.smtp.api.HeloHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MailContext;
import org.postern.smtp.api.MailHook;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.QueueHook;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.ResetTransactionHook;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.Session;
import org.postern.smtp.api.monitor.PeerCheck;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.HookTimeout;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.postern.smtp.plugin.milter.internal.MilterConnection.Answer;

/**
 * A Sendmail milter as a plugin, as qpsmtpd's {@code milter}: each SMTP stage is sent to the milter (protocol
 * version 6) and its answer becomes the hook's, {@link HookResult#later} while the milter thinks. One milter
 * connection per SMTP session. At the end of the message its header changes, body replacement and envelope changes
 * are applied; a DISCARD makes this plugin's queue hook drop the message. When the milter cannot be reached or does
 * not answer in time, {@code milter_default_action} decides.
 */
@Component(service = {ConnectHook.class, HeloHook.class, EhloHook.class, MailHook.class, RcptHook.class, DataHook.class,
        DataPostHook.class, QueueHook.class, ResetTransactionHook.class, DisconnectHook.class, PeerCheck.class},
        configurationPid = Milter.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = Milter.Config.class)
@PosternPlugin("milter")
@PosternHook({"connect", "helo", "ehlo", "mail", "rcpt", "data", "data_post", "queue", "reset_transaction", "disconnect"})
@HookOrder(450)
@HookTimeout(Milter.HOOK_TIMEOUT)
public final class Milter implements ConnectHook, HeloHook, EhloHook, MailHook, RcptHook, DataHook, DataPostHook, QueueHook,
        ResetTransactionHook, DisconnectHook, PeerCheck {
    static final String PID = "org.postern.smtp.plugin.milter";
    /** Seconds one hook may take: the whole message goes to the milter in one data_post, each packet within timeout.ms. */
    static final int HOOK_TIMEOUT = 120;
    /** Transaction: the name of the milter that asked to discard the message. */
    static final NoteKey<String> DISCARDED = NoteKey.of("milter.discarded", String.class);
    private static final Pattern REPLY_LINE = Pattern.compile("([45]\\d\\d)[ -]?(?:([45]\\.\\d{1,3}\\.\\d{1,3})(?: |$))?(.*)");

    @ObjectClassDefinition(name = "Postern plugin: milter", description = "Sends each SMTP session to a Sendmail milter (protocol 6)")
    public @interface Config {
        @AttributeDefinition(description = "The milter's name, for log lines and replies")
        String milter__name() default "milter";

        @AttributeDefinition(description = "Where the milter listens, as Postfix's smtpd_milters: inet:port@host or unix:/path; "
                + "when set, milter_host and milter_port are not used")
        String milter__socket() default "";

        @AttributeDefinition(description = "The milter's host, for TCP with milter_port")
        String milter__host() default "127.0.0.1";

        @AttributeDefinition(description = "The milter's TCP port (qpsmtpd's second argument)")
        int milter__port() default 0;

        @AttributeDefinition(description = "When the milter cannot be reached, fails or does not answer in time: tempfail (451) or accept (logged)")
        String milter__default__action() default "tempfail";

        @AttributeDefinition(description = "Milliseconds the milter may take to answer one command (a PROGRESS answer restarts it)")
        int timeout_ms() default 10_000;

        @AttributeDefinition(description = "Milliseconds connecting to the milter may take")
        int connect_timeout_ms() default 2_000;
    }

    private final String name;
    private final MilterClient client;
    private final boolean tempfail;
    private final NoteKey<MilterSession> sessionKey;

    @Activate
    public Milter(Config config) {
        if (config.timeout_ms() <= 0 || config.connect_timeout_ms() <= 0) {
            throw new IllegalArgumentException("timeout.ms and connect.timeout.ms must be positive");
        }
        name = config.milter__name().strip();
        SocketAddress address;
        if (!config.milter__socket().isBlank()) {
            address = MilterClient.parse(config.milter__socket());
        } else if (config.milter__port() > 0) {
            address = InetSocketAddress.createUnresolved(config.milter__host().strip(), config.milter__port());
        } else {
            throw new IllegalArgumentException("milter_socket or milter_port must be set");
        }
        String action = config.milter__default__action().strip().toLowerCase(Locale.ROOT);
        if (!action.equals("tempfail") && !action.equals("accept")) {
            throw new IllegalArgumentException("milter_default_action must be tempfail or accept, not " + action);
        }
        tempfail = action.equals("tempfail");
        client = new MilterClient(address, config.connect_timeout_ms(), config.timeout_ms());
        sessionKey = NoteKey.of("milter." + name + "." + System.identityHashCode(this), MilterSession.class);
    }

    @Deactivate
    void deactivate() {
        client.close();
    }

    @Override
    public String peer() {
        return "milter " + name + " " + client.where();
    }

    @Override
    public CompletionStage<String> probe(Duration timeout) {
        return client.probe(timeout);
    }

    @Override
    public HookResult onConnect(HookContext ctx) {
        MilterSession milter = new MilterSession(client);
        ctx.session().notes().put(sessionKey, milter);
        Session session = ctx.session();
        return HookResult.later(milter.connect(session.remoteHost(), session.remoteAddress(), connectMacros(ctx))
                .handle((answer, error) -> error == null ? answer(ctx, milter, "connection", answer) : passedFailure(ctx, milter, "connection", error)));
    }

    @Override
    public HookResult onHelo(HeloContext ctx) {
        return helo(ctx);
    }

    @Override
    public HookResult onEhlo(HeloContext ctx) {
        return helo(ctx);
    }

    private HookResult helo(HeloContext ctx) {
        Map<String, String> macros = new LinkedHashMap<>();
        ctx.session().tlsProtocol().ifPresent(protocol -> macros.put("{tls_version}", protocol));
        ctx.session().tlsCipherSuite().ifPresent(cipher -> macros.put("{cipher}", cipher));
        return listening(ctx, false).map(milter -> HookResult.later(milter.helo(ctx.host(), macros)
                .handle((answer, error) -> error == null ? answer(ctx, milter, "HELO", answer) : passedFailure(ctx, milter, "HELO", error))))
                .orElse(HookResult.declined());
    }

    @Override
    public HookResult onMail(MailContext ctx) {
        Map<String, String> macros = new LinkedHashMap<>();
        macros.put("i", ctx.transaction().id());
        ctx.session().authMechanism().ifPresent(mechanism -> macros.put("{auth_type}", mechanism));
        ctx.session().authenticatedUser().ifPresent(user -> macros.put("{auth_authen}", user));
        macros.put("{mail_addr}", ctx.sender().address());
        return listening(ctx, false).map(milter -> exchange(ctx, milter, "MAIL FROM", milter.mail(ctx.sender().format(), ctx.parameters(), macros)))
                .orElse(HookResult.declined());
    }

    @Override
    public HookResult onRcpt(RcptContext ctx) {
        Map<String, String> macros = Map.of("i", ctx.transaction().id(), "{rcpt_addr}", ctx.recipient().address());
        return listening(ctx, true).map(milter -> exchange(ctx, milter, "RCPT TO", milter.rcpt(ctx.recipient().format(), ctx.parameters(), macros)))
                .orElse(HookResult.declined());
    }

    @Override
    public HookResult onData(HookContext ctx) {
        return listening(ctx, true).map(milter -> exchange(ctx, milter, "DATA", milter.data(Map.of("i", ctx.transaction().id()))))
                .orElse(HookResult.declined());
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        return listening(ctx, true).map(milter -> {
            try {
                return exchange(ctx, milter, "end of DATA", milter.message(ctx.transaction().header().orElseThrow().fields(),
                        ctx.transaction().body(), Map.of("i", ctx.transaction().id())));
            } catch (IOException e) {
                return failure(ctx, milter, "end of DATA", e);
            }
        }).orElse(HookResult.declined());
    }

    /**
     * This session's milter, unless it has had its say: on the session (an ACCEPT at connect or HELO), or, inside a
     * message ({@code inMessage}), on this message.
     */
    private Optional<MilterSession> listening(HookContext ctx, boolean inMessage) {
        return ctx.session().notes().get(sessionKey).filter(milter -> !(inMessage ? milter.messageSettled() : milter.sessionSettled()));
    }

    /** The message a milter discarded is dropped here, before the queue plugins, with a 250 as Sendmail gives. */
    @Override
    public HookResult onQueue(HookContext ctx) {
        return ctx.transaction().notes().get(DISCARDED).map(milter -> {
            ctx.log(LogLevel.INFO, "discarded by the " + milter + " milter, not queued");
            return HookResult.ok("Message discarded");
        }).orElse(HookResult.declined());
    }

    @Override
    public HookResult onResetTransaction(HookContext ctx) {
        ctx.session().notes().get(sessionKey).ifPresent(MilterSession::abort);
        return HookResult.declined();
    }

    @Override
    public HookResult onDisconnect(HookContext ctx) {
        ctx.session().notes().get(sessionKey).ifPresent(MilterSession::quit);
        ctx.session().notes().remove(sessionKey);
        return HookResult.declined();
    }

    private HookResult exchange(HookContext ctx, MilterSession milter, String where, CompletableFuture<Answer> exchange) {
        return HookResult.later(exchange.handle((answer, error) -> error == null ? answer(ctx, milter, where, answer) : failure(ctx, milter, where, error)));
    }

    private Map<String, String> connectMacros(HookContext ctx) {
        Session session = ctx.session();
        String me = ctx.config("me", "localhost");
        String local = session.localAddress().getAddress().getHostAddress();
        Map<String, String> macros = new LinkedHashMap<>();
        macros.put("j", me);
        macros.put("{daemon_name}", me);
        macros.put("{daemon_addr}", local);
        macros.put("{daemon_port}", Integer.toString(session.localAddress().getPort()));
        macros.put("{if_addr}", local);
        macros.put("{client_addr}", session.remoteAddress().getAddress().getHostAddress());
        macros.put("{client_port}", Integer.toString(session.remoteAddress().getPort()));
        macros.put("{client_name}", session.remoteHost());
        macros.put("v", "Postern");
        macros.put("_", session.remoteHost() + " [" + session.remoteAddress().getAddress().getHostAddress() + "]");
        return macros;
    }

    /** The milter's answer as the hook's, and at the end of the message, its modifications applied. */
    private HookResult answer(HookContext ctx, MilterSession milter, String where, Answer answer) {
        MilterReply reply = answer.reply();
        if (!answer.modifications().isEmpty() && (reply.code() == MilterReply.CONTINUE || reply.code() == MilterReply.ACCEPT)) {
            try {
                new MessageChanges(ctx.transaction(), milter.actions()).apply(answer.modifications())
                        .forEach(change -> ctx.log(LogLevel.INFO, name + " milter " + change));
            } catch (IOException | RuntimeException e) {
                return failure(ctx, milter, where, e);
            }
        }
        return switch (reply.code()) {
            case MilterReply.CONTINUE, MilterReply.SKIP -> HookResult.declined();
            case MilterReply.ACCEPT -> {
                ctx.log(LogLevel.INFO, name + " milter accepted at " + where);
                yield HookResult.declined();
            }
            case MilterReply.DISCARD -> {
                ctx.log(LogLevel.INFO, name + " milter discards the message at " + where);
                ctx.transaction().notes().put(DISCARDED, name);
                yield HookResult.declined();
            }
            case MilterReply.REJECT -> {
                ctx.log(LogLevel.INFO, name + " milter rejected at " + where);
                yield HookResult.deny("Rejected at " + where + " by " + name + " milter").withReplyCode(550).withEnhancedStatus("5.7.1");
            }
            case MilterReply.TEMPFAIL -> {
                ctx.log(LogLevel.INFO, name + " milter deferred at " + where);
                yield HookResult.denySoft("Deferred at " + where + " by " + name + " milter").withReplyCode(451).withEnhancedStatus("4.7.1");
            }
            case MilterReply.REPLYCODE -> {
                ctx.log(LogLevel.INFO, name + " milter replied at " + where + ": " + reply.replyText());
                yield replyCode(reply.replyText());
            }
            default -> failure(ctx, milter, where, new IOException("the milter answered " + reply));
        };
    }

    /** SMFIR_REPLYCODE: a 4xx or 5xx reply, one line or several ({@code 550-5.7.1 first\r\n550 5.7.1 last}). */
    static HookResult replyCode(String text) {
        String[] lines = text.split("\r?\n");
        Matcher first = REPLY_LINE.matcher(lines[0]);
        if (!first.matches()) {
            return HookResult.denySoft("Temporary failure, the milter's reply was not understood").withReplyCode(451).withEnhancedStatus("4.7.1");
        }
        int code = Integer.parseInt(first.group(1));
        String[] texts = new String[lines.length];
        for (int i = 0; i < lines.length; i++) {
            Matcher line = REPLY_LINE.matcher(lines[i]);
            texts[i] = line.matches() ? line.group(3) : lines[i];
        }
        HookResult result = HookResult.of(code >= 500 ? ReturnCode.DENY : ReturnCode.DENYSOFT, texts).withReplyCode(code);
        return first.group(2) == null ? result : result.withEnhancedStatus(first.group(2));
    }

    /** At connect and HELO a failure passes: the connection is tried again at MAIL, where milter_default_action decides. */
    private HookResult passedFailure(HookContext ctx, MilterSession milter, String where, Throwable error) {
        milter.failed(false);
        ctx.log(LogLevel.ERROR, name + " milter at " + client.where() + " failed at " + where + ": " + describe(error) + "; tried again at MAIL");
        return HookResult.declined();
    }

    private HookResult failure(HookContext ctx, MilterSession milter, String where, Throwable error) {
        milter.failed(!tempfail);
        ctx.log(LogLevel.ERROR, name + " milter at " + client.where() + " failed at " + where + ": " + describe(error)
                + (tempfail ? "; deferred" : "; accepted without it"));
        return tempfail ? HookResult.denySoft("Service temporarily unavailable, please try again later").withReplyCode(451).withEnhancedStatus("4.7.1")
                : HookResult.declined();
    }

    /** I/O errors and timeouts say enough in their message; anything else is named by its class too. */
    private static String describe(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        boolean plain = (cause instanceof IOException || cause instanceof TimeoutException) && cause.getMessage() != null;
        return plain ? cause.getMessage() : cause.toString();
    }
}
