package org.postern.smtp.core.internal.protocol;

import static java.util.concurrent.CompletableFuture.completedFuture;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HeloContext;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MailContext;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.Recipient;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.monitor.TransactionRecord;
import org.postern.smtp.core.internal.dispatch.CoreLog;
import org.postern.smtp.core.internal.dispatch.HookChains;
import org.postern.smtp.core.internal.dispatch.HookContexts;
import org.postern.smtp.core.internal.dispatch.HookContexts.Scope;
import org.postern.smtp.core.internal.dispatch.HookRunner;
import org.postern.smtp.core.internal.dispatch.HookRunner.HookFailure;
import org.postern.smtp.core.internal.dispatch.PluginSupport;
import org.postern.smtp.core.internal.dispatch.Statistics;
import org.postern.smtp.core.internal.protocol.Responses.Decision;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RFC 5321 state machine of one connection, driving the hooks as qpsmtpd's {@code Qpsmtpd::SMTP} does.
 * It reads commands and answers HELO, MAIL, RCPT and the simple commands itself; a message from DATA on is
 * {@link DataExchange}'s, AUTH is {@link AuthExchange}'s. Where the session stands is one {@link Phase}.
 *
 * <p>Every method runs on the connection's thread. A command that runs hooks makes the session busy until
 * its reply is sent; the transport holds further (pipelined) lines until {@link Transport#ready()}. Hook
 * answers come back to the connection's thread before they touch any state.
 */
public final class SmtpSession {
    private static final Logger LOG = LoggerFactory.getLogger(SmtpSession.class);
    /** One line per mail transaction as it ends (see {@link TransactionRecord#logLine()}), for people to grep. */
    private static final Logger TRANSACTION_LOG = LoggerFactory.getLogger("postern.transactions");
    /** The MAIL parameters of the extensions the core offers (SIZE, 8BITMIME, AUTH); others are the plugins'. */
    private static final Set<String> MAIL_PARAMETERS = Set.of("size", "body", "auth");
    private static final Pattern ESMTP_WORD = Pattern.compile("(^|\\W)ESMTP(\\W|$)");

    private SessionSettings settings;
    /** The text of the 220 greeting; a config plugin's {@code smtpgreeting} replaces it whole. */
    private String greeting;
    private final HookRunner runner;
    private final Supplier<HookChains> hookChains;
    private final PluginSupport support;
    private final ReverseLookup reverseLookup;
    private final Transport transport;
    private final SessionState state;
    private final Statistics statistics;
    private final DataExchange data = new DataExchange(this);
    private final AuthExchange auth;
    private final PluginConversation client;
    private final long startedNanos = System.nanoTime();
    private TransactionState transaction;
    /** The current transaction's number in this session, in its id. */
    private int transactions;
    private HookChains chains = HookChains.EMPTY;
    // volatile: read by administrators' commands and the idle timer
    private volatile Phase phase = Phase.COMMANDS;
    private volatile boolean busy;
    private long busySinceNanos;
    /** The command being answered; what runs when the client leaves waits for it. */
    private CompletableFuture<Void> inFlight = completedFuture(null);
    private int errors;
    /** A plugin sent the command's final reply itself; the core's own for the command is not sent. */
    private boolean answeredByPlugin;
    /** The server is stopping: the session ends with 421 as soon as no command is being answered. */
    private boolean shuttingDown;

    public SmtpSession(String id, String listener, InetSocketAddress remote, InetSocketAddress local, SessionSettings settings,
            HookRunner runner, Supplier<HookChains> hookChains, PluginSupport support, ReverseLookup reverseLookup,
            Transport transport, Statistics statistics, AuthFailureBudget authFailureBudget) {
        this.settings = settings;
        this.greeting = settings.me() + " " + settings.greeting();
        this.statistics = statistics;
        this.runner = runner;
        this.hookChains = hookChains;
        this.support = support;
        this.reverseLookup = reverseLookup;
        this.transport = transport;
        this.state = new SessionState(id, listener, remote, local, transport::inputWaiting);
        this.transaction = nextTransaction();
        this.auth = new AuthExchange(this, authFailureBudget);
        this.client = new PluginConversation(this, runner);
    }

    public boolean busy() {
        return busy;
    }

    /** When the command that keeps the session busy started. */
    public long busySinceNanos() {
        return busySinceNanos;
    }

    public boolean inData() {
        return phase instanceof Phase.ReceivingData;
    }

    public boolean closed() {
        return phase == Phase.CLOSED;
    }

    public String id() {
        return state.id();
    }

    /** What a session can be doing, as {@link #activity()} names it. */
    public static final List<String> ACTIVITIES = List.of("idle", "plugins", "data", "auth", "closing");

    /** What the session is doing now, one of {@link #ACTIVITIES}. Read from any thread; approximate by nature. */
    public String activity() {
        Phase now = phase;
        return now == Phase.CLOSED || now == Phase.CLOSING ? "closing" : busy ? "plugins"
                : now instanceof Phase.ReceivingData ? "data" : now instanceof Phase.Authenticating ? "auth" : "idle";
    }

    public String listener() {
        return state.listener();
    }

    /** How long ago the client connected. */
    public Duration age() {
        return Duration.ofNanos(System.nanoTime() - startedNanos);
    }

    /** One line for administrators: id, client, state and age. Read from any thread; approximate by nature. */
    public String describe() {
        String described = switch (activity()) {
            case "plugins" -> "waiting for plugins";
            case "data" -> "in DATA";
            case "auth" -> "in AUTH";
            default -> activity();
        };
        return String.format("%-12s %-24s %-20s %6ds  %s", state.id(), state.remoteAddress().getAddress().getHostAddress()
                + ":" + state.remoteAddress().getPort(), described, age().toSeconds(), state.heloHost().map(h -> "HELO " + h).orElse(""));
    }

    /** The connection negotiated TLS before the session began (an implicit-TLS listener). */
    public void encryptedFromTheStart(String tlsDescription) {
        log(LogLevel.INFO, "TLS started, {}", tlsDescription);
        state.tlsStarted(tlsDescription);
    }

    /**
     * Looks up the client's host name and asks config plugins for the core's own items, both at once; then runs
     * pre_connection and connect, and greets (or refuses) the client.
     */
    public void start(int connectionsFromRemoteIp, int connections) {
        chains = hookChains.get();
        track(() -> CompletableFuture.allOf(lookUpRemoteHost(), askConfigPluginsForCoreItems())
                .thenCompose(v -> hook(HookType.PRE_CONNECTION, HookContexts.preConnection(scope(), connectionsFromRemoteIp, connections)))
                .thenApply(this::onlyRefusalsAtPreConnection)
                .thenCompose(answer -> respondOr(HookType.PRE_CONNECTION, answer, null,
                        () -> hook(HookType.CONNECT, plain()).thenCompose(connected -> respondOr(HookType.CONNECT, connected, null,
                                () -> {
                            state.greeted();
                            return reply(new Reply(220, null, List.of(greeting)));
                        }))))
                .exceptionallyCompose(error -> {
                    // a client not yet greeted is refused and let go
                    HookFailure failure = hookFailure(error);
                    return failure == null ? CompletableFuture.failedFuture(error)
                            : respond(new Decision(Responses.pluginFailed(failure.answer()).reply(), true));
                }));
    }

    /**
     * qpsmtpd's remote_host: the first PTR name, unverified, kept to the characters a host name has (it goes
     * into the Received header). A failed lookup leaves {@code [ip]}; it never delays the greeting past the
     * resolver's timeout.
     */
    private CompletableFuture<Void> lookUpRemoteHost() {
        CompletableFuture<List<String>> names = reverseLookup.names(state.remoteAddress().getAddress()).toCompletableFuture();
        if (names.isDone() && !names.isCompletedExceptionally()) {
            names.join().stream().findFirst().ifPresent(this::remoteHost);
            return completedFuture(null);
        }
        return names.handleAsync((found, error) -> {
            if (error != null) {
                log(LogLevel.DEBUG, "no host name for {}: {}", state.remoteIp(), error.toString());
            } else {
                found.stream().findFirst().ifPresent(this::remoteHost);
            }
            return null;
        }, transport.executor());
    }

    private void remoteHost(String name) {
        String hostName = name.replaceAll("[^A-Za-z0-9.-]", "");
        if (!hostName.isEmpty()) {
            state.remoteHost(hostName);
        }
    }

    /**
     * qpsmtpd reads its own items through {@code config()}, so a config plugin (http_config, say) can set them:
     * an OK answer overrides the server's configuration for this session. The plugins run on hook threads, all
     * items at once; without config plugins nothing is asked and nothing waits.
     */
    private CompletableFuture<Void> askConfigPluginsForCoreItems() {
        if (!chains.has(HookType.CONFIG)) {
            return completedFuture(null);
        }
        Map<String, CompletableFuture<HookResult>> asked = new LinkedHashMap<>();
        for (String item : SessionSettings.CONFIG_HOOK_ITEMS) {
            asked.put(item, runner.run(chains, HookType.CONFIG, HookContexts.config(plain(), item)));
        }
        return CompletableFuture.allOf(asked.values().toArray(CompletableFuture[]::new)).thenRunAsync(() -> {
            Map<String, String> answers = new HashMap<>();
            asked.forEach((item, answer) -> {
                HookResult result = answer.join();
                if (result.code() == ReturnCode.OK && !result.message().isEmpty()) {
                    answers.put(item, result.message().get(0).strip());
                }
            });
            settings = settings.withConfigHookAnswers(answers,
                    unusable -> log(LogLevel.WARN, "config plugins answered {}; the server's setting stays", unusable));
            String smtpGreeting = answers.get("smtpgreeting");
            if (smtpGreeting != null && !smtpGreeting.isEmpty()) {
                // as qpsmtpd: an admin's greeting always announces ESMTP
                greeting = ESMTP_WORD.matcher(smtpGreeting).find() ? smtpGreeting : smtpGreeting + " ESMTP";
            } else {
                greeting = settings.me() + " " + settings.greeting();
            }
        }, transport.executor());
    }

    /**
     * At pre_connection only refusals count (hooks.md: "anything else is ignored"): the greeting is connect's
     * to give, so a DONE there, even with a reply, lets the session go on to connect.
     */
    private HookResult onlyRefusalsAtPreConnection(HookResult answer) {
        if (answer.code() == ReturnCode.DONE) {
            log(LogLevel.WARN, "DONE at pre_connection is ignored; a plugin greets at connect");
            return HookResult.declined();
        }
        return answer;
    }

    /** Takes one line from the client; call only while not {@link #busy()}. */
    public void onLine(SmtpLine line) {
        Phase now = phase;
        if (now instanceof Phase.ReceivingData receiving) {
            data.line(receiving.message(), line);
        } else if (now instanceof Phase.Authenticating authenticating) {
            track(() -> auth.respond(authenticating.exchange(), line));
        } else if (now == Phase.COMMANDS || now == Phase.SKIPPING_MALFORMED_LINE) {
            commandLine(line);
        }
    }

    private void commandLine(SmtpLine line) {
        chains = hookChains.get();
        Reply lineError = commandLineError(line);
        if (lineError != null || phase == Phase.SKIPPING_MALFORMED_LINE) {
            // RFC 5321 2.3.8: only CRLF ends a line. A bare LF never splits one line into two commands.
            boolean continues = !line.crlf();
            Reply reply = phase == Phase.SKIPPING_MALFORMED_LINE || continues ? Responses.BARE_LINE_ENDING : lineError;
            enter(continues ? Phase.SKIPPING_MALFORMED_LINE : Phase.COMMANDS);
            track(() -> continues ? completedFuture(null) : reply(reply));
            return;
        }
        String text = new String(line.bytes(), StandardCharsets.UTF_8).strip();
        int space = text.indexOf(' ');
        String verb = (space < 0 ? text : text.substring(0, space)).toLowerCase(Locale.ROOT);
        String arguments = space < 0 ? "" : text.substring(space + 1).strip();
        track(() -> command(verb, arguments));
    }

    /** What is wrong with a command line as a line, before its words are read; null when nothing is. */
    private Reply commandLineError(SmtpLine line) {
        if (line.tooLong() || line.bytes().length > settings.maxCommandLineLength()) {
            return Responses.LINE_TOO_LONG;
        }
        if (!line.crlf() || line.bareCr() || line.contains((byte) 0)) {
            return Responses.BARE_LINE_ENDING;
        }
        if (line.bytes().length > 0 && (line.bytes()[0] == ' ' || line.bytes()[0] == '\t')) {
            return Responses.LEADING_WHITE_SPACE;
        }
        return null;
    }

    private CompletableFuture<Void> command(String verb, String arguments) {
        return switch (verb) {
            case "helo" -> hello(arguments, false);
            case "ehlo" -> hello(arguments, true);
            case "mail" -> mail(arguments);
            case "rcpt" -> rcpt(arguments);
            case "data" -> data.data(arguments);
            case "rset" -> resetTransaction().thenCompose(v -> reply(Responses.OK));
            case "noop" -> simpleCommand(HookType.NOOP, verb, arguments, answer -> reply(Responses.OK));
            case "vrfy" -> simpleCommand(HookType.VRFY, verb, arguments, answer -> reply(Responses.VRFY_DEFAULT));
            case "help" -> simpleCommand(HookType.HELP, verb, arguments, answer ->
                    reply(new Reply(214, "2.0.0", answer.message().isEmpty() ? Responses.HELP_TEXT : answer.message())));
            case "quit" -> quit();
            case "auth" -> auth.auth(verb, arguments);
            case "starttls" -> startTls(verb, arguments);
            default -> unrecognized(verb, arguments);
        };
    }

    // --- HELO / EHLO ---------------------------------------------------------------------------------------

    private CompletableFuture<Void> hello(String arguments, boolean extended) {
        HookType parseHook = extended ? HookType.EHLO_PARSE : HookType.HELO_PARSE;
        String verb = extended ? "ehlo" : "helo";
        return hook(parseHook, HookContexts.parse(scope(), verb, arguments)).thenCompose(parsed -> {
            List<String> words;
            if (parsed.code() == ReturnCode.OK) {
                words = parsed.message();
            } else if (parsed.code().isDenial()) {
                words = List.of();
            } else {
                words = arguments.isEmpty() ? List.of() : Arrays.asList(arguments.split("\\s+"));
            }
            if (words.isEmpty() || words.get(0).isEmpty()) {
                return reply(Responses.helloNeedsDomain(verb));
            }
            String host = words.get(0);
            HookType hook = extended ? HookType.EHLO : HookType.HELO;
            // RFC 5321 4.1.4: a repeated HELO/EHLO resets the session like RSET (qpsmtpd refuses it with 503).
            return resetTransaction().thenCompose(v -> {
                HeloContext ctx = HookContexts.helo(scope(), host, List.copyOf(words.subList(1, words.size())));
                return hook(hook, ctx).thenCompose(answer -> respondOr(hook, answer, null, () -> {
                    state.hello(host, extended);
                    return reply(helloReply(extended, answer, HookContexts.offeredCapabilities(ctx)));
                }));
            });
        });
    }

    /** The greeting line (or the accepting plugin's text), then with EHLO the extensions offered. */
    private Reply helloReply(boolean extended, HookResult answer, List<String> offeredByPlugins) {
        String ip = state.remoteIp();
        List<String> lines = new ArrayList<>();
        if (answer.code() == ReturnCode.OK && !answer.message().isEmpty()) {
            lines.add(settings.me() + " " + answer.message().get(0));
        } else {
            lines.add(settings.me() + " Hi " + ip + " [" + ip + "]" + (extended ? "" : "; I am so happy to meet you."));
        }
        if (extended) {
            lines.add("PIPELINING");
            lines.add("8BITMIME");
            lines.add("SIZE " + settings.maxMessageSize());
            lines.add("ENHANCEDSTATUSCODES");
            if (transport.tlsAvailable()) {
                lines.add("STARTTLS");
            }
            List<String> mechanisms = auth.mechanisms();
            if (!mechanisms.isEmpty() && !auth.needsTls()) {
                lines.add("AUTH " + String.join(" ", mechanisms).toUpperCase(Locale.ROOT));
            }
            lines.addAll(offeredByPlugins);
        }
        return new Reply(250, null, lines);
    }

    // --- MAIL ---------------------------------------------------------------------------------------------

    private CompletableFuture<Void> mail(String arguments) {
        return resetTransaction().thenCompose(v -> {
            if (state.heloHost().isEmpty()) {
                return reply(Responses.HELLO_FIRST);
            }
            if (settings.auth().required() && state.authenticatedUser().isEmpty()) {
                return reply(Responses.AUTHENTICATION_REQUIRED);
            }
            return parseEnvelope(HookType.MAIL_PARSE, "mail", arguments, EnvelopeParser::parseMail, HookType.MAIL_PRE,
                    "could not parse your mail from command", this::mailAddress);
        });
    }

    private CompletableFuture<Void> mailAddress(String path, Map<String, String> parameters) {
        Address sender;
        if (path.equals("<>") || path.contains("[undefined]") || path.equals("<#@[]>")) {
            sender = Address.nullSender();
        } else {
            sender = Address.parse(path).orElse(null);
        }
        if (sender == null) {
            return reply(Responses.SENDER_UNPARSABLE);
        }
        Reply parameterError = mailParameterError(parameters);
        if (parameterError != null) {
            return reply(parameterError);
        }
        MailContext ctx = HookContexts.mail(scope(), sender, parameters);
        return hook(HookType.MAIL, ctx).thenCompose(answer -> {
            if (answer.code().isDenial()) {
                log(LogLevel.INFO, "MAIL FROM {} refused: {}", sender.format(), answer);
            }
            return respondOr(HookType.MAIL, answer, sender.format(), () -> {
                Set<String> unsupported = unsupportedParameters(ctx, parameters, MAIL_PARAMETERS);
                if (!unsupported.isEmpty()) {
                    return reply(Responses.unsupportedParameter(unsupported.iterator().next()));
                }
                transaction.sender(sender, parameters);
                return reply(Responses.replyFor(Responses.SENDER_OK, answer, sender.format()));
            });
        });
    }

    /** Parameters neither the core knows nor a plugin took on: RFC 5321 4.1.1.11 says 555. */
    private static Set<String> unsupportedParameters(HookContext ctx, Map<String, String> parameters, Set<String> known) {
        if (known.containsAll(parameters.keySet())) {
            return Set.of();
        }
        Set<String> unknown = new java.util.HashSet<>(parameters.keySet());
        unknown.removeAll(known);
        return HookContexts.parametersNotAccepted(ctx, unknown);
    }

    /** What is wrong with the MAIL parameters the core handles itself; null when nothing is. */
    private Reply mailParameterError(Map<String, String> parameters) {
        String size = parameters.get("size");
        if (size != null) {
            long declared;
            try {
                declared = Long.parseLong(size);
            } catch (NumberFormatException e) {
                return Responses.SIZE_SYNTAX;
            }
            if (declared > settings.maxMessageSize()) {
                return Responses.SIZE_EXCEEDED;
            }
        }
        String body = parameters.get("body");
        if (body != null && !body.equalsIgnoreCase("7BIT") && !body.equalsIgnoreCase("8BITMIME")) {
            return Responses.unsupportedBody(body);
        }
        return null;
    }

    // --- RCPT ---------------------------------------------------------------------------------------------

    private CompletableFuture<Void> rcpt(String arguments) {
        if (transaction.sender().isEmpty()) {
            return reply(Responses.MAIL_BEFORE_RCPT);
        }
        if (transaction.recipients().size() >= settings.maxRecipients()) {
            return reply(Responses.TOO_MANY_RECIPIENTS);
        }
        return parseEnvelope(HookType.RCPT_PARSE, "rcpt", arguments, EnvelopeParser::parseRcpt, HookType.RCPT_PRE,
                "could not parse recipient", this::rcptAddress);
    }

    private CompletableFuture<Void> rcptAddress(String path, Map<String, String> parameters) {
        Address recipient = Address.parse(path).filter(a -> !a.isNullSender()).orElse(null);
        if (recipient == null) {
            return reply(Responses.RECIPIENT_UNPARSABLE);
        }
        RcptContext ctx = HookContexts.rcpt(scope(), recipient, parameters);
        return hook(HookType.RCPT, ctx).thenCompose(answer -> {
            if (answer.code() == ReturnCode.OK) {
                Set<String> unsupported = unsupportedParameters(ctx, parameters, Set.of());
                if (!unsupported.isEmpty()) {
                    return reply(Responses.unsupportedParameter(unsupported.iterator().next()));
                }
                transaction.addRecipient(new Recipient(recipient, parameters));
                return reply(Responses.replyFor(Responses.RECIPIENT_OK, answer, recipient.format()));
            }
            log(LogLevel.INFO, "RCPT TO {} not accepted: {}", recipient.format(), answer);
            return respond(Responses.decide(HookType.RCPT, answer, recipient.format()));
        });
    }

    /** Shared by MAIL and RCPT: the parse hook (or built-in parser), then the *_pre hook, then the address. */
    private CompletableFuture<Void> parseEnvelope(HookType parseHook, String verb, String arguments,
            Function<String, EnvelopeParser.Parsed> builtIn, HookType preHook, String unparsable, AddressStep next) {
        return hook(parseHook, HookContexts.parse(scope(), verb, arguments)).thenCompose(custom -> {
            EnvelopeParser.Parsed parsed;
            if (custom.code() == ReturnCode.OK && !custom.message().isEmpty()) {
                parsed = new EnvelopeParser.Parsed(custom.message().get(0),
                        custom.message().subList(1, custom.message().size()), null);
            } else if (custom.code() != ReturnCode.DECLINED) {
                String reason = custom.message().isEmpty() ? "Syntax error in command" : custom.message().get(0);
                parsed = new EnvelopeParser.Parsed(null, List.of(), reason);
            } else {
                parsed = builtIn.apply(arguments);
            }
            if (!parsed.ok()) {
                return reply(Responses.syntaxError(parsed.error()));
            }
            Map<String, String> parameters = EnvelopeParser.parameterMap(parsed.parameters());
            return hook(preHook, HookContexts.addressPre(scope(), parsed.address(), parameters)).thenCompose(pre -> {
                String path = pre.code() == ReturnCode.OK && !pre.message().isEmpty() ? pre.message().get(0) : parsed.address();
                if (!path.startsWith("<") || !path.endsWith(">")) {
                    return reply(Responses.syntaxError(unparsable));
                }
                return next.accept(path, parameters);
            });
        });
    }

    @FunctionalInterface
    private interface AddressStep {
        CompletableFuture<Void> accept(String path, Map<String, String> parameters);
    }

    // --- STARTTLS (RFC 3207) -----------------------------------------------------------------------------

    private CompletableFuture<Void> startTls(String verb, String arguments) {
        if (!transport.tlsAvailable()) {
            return state.tls() ? reply(Responses.TLS_ACTIVE) : unrecognized(verb, arguments);
        }
        if (!arguments.isEmpty()) {
            return reply(Responses.STARTTLS_PARAMETERS);
        }
        return transport.startTls(Responses.READY_FOR_TLS).handle((description, error) -> {
            if (error != null) {
                log(LogLevel.INFO, "TLS handshake failed: {}", error.toString());
                enter(Phase.CLOSED);
                transport.close();
                return completedFuture((Void) null);
            }
            log(LogLevel.INFO, "TLS started, {}", description);
            state.tlsStarted(description);
            return resetTransaction();
        }).thenCompose(Function.identity());
    }

    // --- NOOP, VRFY, HELP, unknown commands, QUIT ---------------------------------------------------------

    /**
     * A command whose reply is decided by one hook: a rule from the table, or the command's own default (also
     * for a DONE that brought no reply of its own, so the client is never left waiting).
     */
    private CompletableFuture<Void> simpleCommand(HookType hook, String verb, String arguments,
            Function<HookResult, CompletableFuture<Void>> otherwise) {
        List<String> words = arguments.isEmpty() ? List.of() : List.of(arguments.split("\\s+"));
        return hook(hook, HookContexts.command(scope(), verb, words)).thenCompose(answer -> {
            if (hook == HookType.VRFY && answer.code() == ReturnCode.DENY) {
                return refuseOr(hook, answer, () -> otherwise.apply(answer));
            }
            return respondOr(hook, answer, null, () -> otherwise.apply(answer));
        });
    }

    CompletableFuture<Void> unrecognized(String verb, String arguments) {
        return simpleCommand(HookType.UNRECOGNIZED_COMMAND, verb, arguments, answer -> reply(Responses.UNRECOGNIZED));
    }

    private CompletableFuture<Void> quit() {
        return hook(HookType.QUIT, plain()).thenCompose(answer -> {
            Decision pluginReply = Responses.decide(HookType.QUIT, answer, null);
            send(pluginReply != null ? pluginReply.reply() : Responses.replyFor(Responses.goodbye(settings.me()), answer, null));
            return disconnect();
        });
    }

    // --- connection end -----------------------------------------------------------------------------------

    /** The client was idle too long. */
    public void onTimeout() {
        if (phase == Phase.CLOSED || phase == Phase.CLOSING || busy) {
            return;
        }
        log(LogLevel.INFO, "idle timeout");
        enter(Phase.COMMANDS);
        track(() -> respond(Responses.idleTimeout(settings.me())));
    }

    /**
     * The server stops: the client gets 421 4.3.2 and the connection closes, at once unless a command is being
     * answered (then right after its reply, so that a message being queued gets its answer). A message still
     * being received is dropped, unanswered, as when the client leaves: the sender retries it.
     */
    public void shutDown() {
        transport.executor().execute(() -> {
            if (ending()) {
                return;
            }
            shuttingDown = true;
            if (!busy) {
                log(LogLevel.INFO, "server shutting down, closing the session");
                enter(Phase.COMMANDS);
                track(() -> respond(Responses.shuttingDown(settings.me())));
            }
        });
    }

    /**
     * Plugins have kept one command from being answered for as long as a client may wait: the client is told,
     * and the connection closes without running further hooks (they would wait behind the stuck ones).
     */
    public void onBusyTooLong() {
        if (phase == Phase.CLOSED) {
            return;
        }
        log(LogLevel.WARN, "plugins did not answer in time; closing the connection");
        enter(Phase.CLOSED);
        send(Responses.pluginsTooSlow(settings.me()));
        transport.close();
    }

    /**
     * The connection is gone, however it ended: the message in progress is thrown away at once. What still
     * runs waits for the command in progress (the server's own ending included, which the client may not have
     * waited for): when the client left without QUIT, disconnect and reset_transaction, as qpsmtpd runs them;
     * then, in every case, post_connection.
     */
    public void onClosed() {
        boolean serverEnded = ending();
        enter(Phase.CLOSED);
        discard(transaction);
        CompletableFuture<Void> afterCommand = inFlight.handle((v, error) -> null);
        CompletableFuture<Void> farewell = serverEnded ? afterCommand
                : afterCommand.thenCompose(v -> hook(HookType.DISCONNECT, plain())).thenCompose(answer -> resetTransaction());
        farewell.whenComplete((v, error) -> {
            if (chains.has(HookType.POST_CONNECTION)) {
                runner.run(chains, HookType.POST_CONNECTION, plain());
            }
        });
    }

    CompletableFuture<Void> disconnect() {
        enter(Phase.CLOSING);
        return hook(HookType.DISCONNECT, plain()).thenCompose(answer -> resetTransaction()).thenRun(() -> {
            enter(Phase.CLOSED);
            transport.close();
        });
    }

    // --- what the exchanges share ------------------------------------------------------------------------

    SessionSettings settings() {
        return settings;
    }

    SessionState state() {
        return state;
    }

    TransactionState transaction() {
        return transaction;
    }

    Transport transport() {
        return transport;
    }

    HookChains chains() {
        return chains;
    }

    Phase phase() {
        return phase;
    }

    void enter(Phase next) {
        phase = next;
    }

    /** True once the server is ending the session: no reply but the closing one goes out. */
    boolean ending() {
        return phase == Phase.CLOSING || phase == Phase.CLOSED;
    }

    /** Counts an error the reply code does not show, such as a failed AUTH. */
    void countError() {
        errors++;
    }

    Scope scope() {
        return new Scope(state, transaction, support, client);
    }

    HookContext plain() {
        return HookContexts.plain(scope());
    }

    /** Runs a hook; the answer arrives on the connection's thread. A hook nobody registered costs no hop. */
    CompletableFuture<HookResult> hook(HookType hook, HookContext ctx) {
        if (!chains.has(hook)) {
            return completedFuture(HookResult.declined());
        }
        return runner.run(chains, hook, ctx).thenApplyAsync(Function.identity(), transport.executor());
    }

    /** A line of the core's about this session, for logging plugins and then the server log (see {@link CoreLog}). */
    void log(LogLevel level, String format, Object... arguments) {
        if (CoreLog.heard(LOG, level, chains.has(HookType.LOGGING))) {
            CoreLog.log(plain(), LOG, level, format, arguments);
        }
    }

    void send(Reply reply) {
        if (answeredByPlugin && reply.code() != 421) {
            log(LogLevel.DEBUG, "not sent, a plugin answered the command itself: {}", reply);
            return;
        }
        write(reply);
    }

    private void write(Reply reply) {
        log(LogLevel.DEBUG, "{}", reply);
        transport.send(reply);
        if (isClientError(reply.code())) {
            errors++;
        }
    }

    // --- plugins talking to the client (PluginConversation) ----------------------------------------------

    /** True while a command waits for plugins and the client is not sending a message: plugins may talk then. */
    boolean awaitsPlugins() {
        return busy && (phase == Phase.COMMANDS || phase instanceof Phase.Authenticating);
    }

    /** A plugin's own reply, sent at once; a final one (not 3xx) is the command's reply. */
    void pluginReply(Reply reply) {
        write(reply);
        transport.flush();
        if (reply.code() < 300 || reply.code() >= 400) {
            answeredByPlugin = true;
        }
    }

    /** The client's next line, for a plugin; the client's sending it counts as activity, not plugin slowness. */
    CompletableFuture<SmtpLine> pluginLine() {
        return transport.nextLine().thenApply(line -> {
            busySinceNanos = System.nanoTime();
            return line;
        });
    }

    /** Sends a reply that ends the command. */
    CompletableFuture<Void> reply(Reply reply) {
        send(reply);
        return completedFuture(null);
    }

    /** Sends a decided reply, and closes the connection when the decision says so. */
    CompletableFuture<Void> respond(Decision decision) {
        if (decision.close() && decision.reply().code() >= 400) {
            transaction.ended(TransactionRecord.Outcome.REFUSED, decision.reply());
        }
        send(decision.reply());
        return decision.close() ? disconnect() : completedFuture(null);
    }

    /**
     * The decide-and-reply step: when the hook's reply table has a rule for the answer, the client gets that
     * reply (and the connection closes if the rule says so); otherwise the command goes on.
     */
    CompletableFuture<Void> respondOr(HookType hook, HookResult answer, String subject, Supplier<CompletableFuture<Void>> goOn) {
        Decision decision = Responses.decide(hook, answer, subject);
        return decision == null ? goOn.get() : respond(decision);
    }

    /** As {@link #respondOr}, for refusals that also end the mail transaction. */
    CompletableFuture<Void> refuseOr(HookType hook, HookResult answer, Supplier<CompletableFuture<Void>> goOn) {
        Decision decision = Responses.decide(hook, answer, null);
        return decision == null ? goOn.get() : refuse(decision);
    }

    /** Ends the mail transaction with the decided reply (closing the connection when it says so). */
    CompletableFuture<Void> refuse(Decision decision) {
        transaction.ended(TransactionRecord.Outcome.REFUSED, decision.reply());
        return decision.close() ? respond(decision) : resetTransaction().thenCompose(v -> reply(decision.reply()));
    }

    /** A new transaction; its number moves on only once a transaction began (MAIL was accepted), not at each reset. */
    private TransactionState nextTransaction() {
        if (transaction == null || transaction.sender().isPresent()) {
            transactions++;
        }
        return new TransactionState(state.id() + "." + transactions, settings.spoolFolder());
    }

    CompletableFuture<Void> resetTransaction() {
        TransactionState ending = transaction;
        if (ending.sender().isPresent()) {
            TransactionRecord ended = ending.record(state.listener(), state.remoteIp());
            statistics.transaction(ended);
            if (CoreLog.heard(TRANSACTION_LOG, LogLevel.INFO, chains.has(HookType.LOGGING))) {
                // logged while the ending transaction is the current one, so logging plugins see its id
                CoreLog.log(plain(), TRANSACTION_LOG, LogLevel.INFO, "{}", ended.logLine());
            }
        }
        transaction = nextTransaction();
        if (!chains.has(HookType.RESET_TRANSACTION)) {
            discard(ending);
            return completedFuture(null);
        }
        Scope endingScope = new Scope(state, ending, support, client);
        return hook(HookType.RESET_TRANSACTION, HookContexts.plain(endingScope)).thenRun(() -> discard(ending));
    }

    private void discard(TransactionState ending) {
        try {
            ending.discard();
        } catch (IOException e) {
            log(LogLevel.WARN, "could not delete a spool file", e);
        }
    }

    /** The plugin failure that ended a command, or null when it ended otherwise. */
    static HookFailure hookFailure(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof HookFailure failure) {
                return failure;
            }
        }
        return null;
    }

    /** Replies that blame the client's syntax or command order, as Postfix's hard error limit counts them. */
    private static boolean isClientError(int code) {
        return (code >= 500 && code <= 504) || code == 555;
    }

    /**
     * Marks the session busy, starts the work and, once it is done, lets the transport hand over the next line.
     * Busy from before the work starts: plugins it runs may talk to the client from their first line.
     */
    void track(Supplier<CompletableFuture<Void>> start) {
        if (!busy) {
            busySinceNanos = System.nanoTime();
            answeredByPlugin = false;
        }
        busy = true;
        CompletableFuture<Void> work;
        try {
            work = start.get();
        } catch (RuntimeException e) {
            work = CompletableFuture.failedFuture(e);
        }
        inFlight = work;
        work.whenComplete((v, error) -> {
            HookFailure failure = hookFailure(error);
            if (failure != null && phase != Phase.CLOSED) {
                Decision decision = Responses.pluginFailed(failure.answer());
                if (decision.close()) {
                    track(() -> respond(decision));
                    return;
                }
                send(decision.reply());
            } else if (error != null) {
                log(LogLevel.ERROR, "command failed", error);
                if (phase != Phase.CLOSED) {
                    send(Responses.INTERNAL_ERROR);
                    enter(Phase.COMMANDS);
                    discard(transaction);
                    transaction = nextTransaction();
                }
            }
            if (errors >= settings.maxErrors() && !ending()) {
                log(LogLevel.INFO, "{} syntax or sequence errors, disconnecting", errors);
                enter(Phase.COMMANDS);
                track(() -> respond(Responses.tooManyErrors(settings.me())));
                return;
            }
            if (shuttingDown && !ending()) {
                enter(Phase.COMMANDS);
                track(() -> respond(Responses.shuttingDown(settings.me())));
                return;
            }
            busy = false;
            transport.ready();
        });
    }
}
