package org.postern.smtp.core.internal.protocol;

import static java.util.concurrent.CompletableFuture.completedFuture;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.Recipient;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.core.internal.dispatch.HookChains;
import org.postern.smtp.core.internal.dispatch.HookContexts;
import org.postern.smtp.core.internal.dispatch.HookContexts.Scope;
import org.postern.smtp.core.internal.dispatch.HookRunner;
import org.postern.smtp.core.internal.dispatch.PluginSupport;
import org.postern.smtp.core.internal.dispatch.Statistics;
import org.postern.smtp.core.internal.protocol.Responses.Decision;
import org.postern.smtp.core.internal.protocol.SessionSettings.BareLineEndings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RFC 5321 state machine of one connection, driving the hooks as qpsmtpd's {@code Qpsmtpd::SMTP} does.
 *
 * <p>Every method runs on the connection's thread. A command that runs hooks makes the session busy until
 * its reply is sent; the transport holds further (pipelined) lines until {@link Transport#ready()}. Hook
 * answers come back to the connection's thread before they touch any state.
 */
public final class SmtpSession {
    private static final Logger LOG = LoggerFactory.getLogger(SmtpSession.class);
    private static final Set<String> MAIL_PARAMETERS = Set.of("size", "body");
    private static final DateTimeFormatter RECEIVED_DATE = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.ROOT);

    private enum Mode { COMMAND, AUTH, DATA, CLOSED }
    private static final Map<HookType, String> AUTH_MECHANISMS = Map.of(
            HookType.AUTH_PLAIN, "plain", HookType.AUTH_LOGIN, "login", HookType.AUTH_CRAM_MD5, "cram-md5");

    private final SessionSettings settings;
    private final HookRunner runner;
    private final Supplier<HookChains> hookChains;
    private final PluginSupport support;
    private final Transport transport;
    private final SessionState session;
    private TransactionState transaction = new TransactionState();
    private HookChains chains = HookChains.EMPTY;
    private final Statistics statistics;
    private final AuthFailureBudget authFailureBudget;
    private final long startedMillis = System.currentTimeMillis();
    // volatile: read by administrators' commands from other threads
    private volatile Mode mode = Mode.COMMAND;
    private volatile boolean busy;
    private long busySinceNanos;
    private boolean closing;
    private int errors;
    private int authFailures;
    /** A command line is being read whose first part ended in a bare LF: it is refused once CRLF ends it. */
    private boolean inMalformedCommandLine;
    private MessageReceiver message;
    /** In DATA: the previous line ended in CRLF (or was the DATA command), so a dot line here may end DATA. */
    private boolean dataLineFollowsCrlf;
    private SaslExchange sasl;

    public SmtpSession(String id, InetSocketAddress remote, InetSocketAddress local, SessionSettings settings,
            HookRunner runner, Supplier<HookChains> hookChains, PluginSupport support, Transport transport,
            Statistics statistics, AuthFailureBudget authFailureBudget) {
        this.settings = settings;
        this.authFailureBudget = authFailureBudget;
        this.statistics = statistics;
        this.runner = runner;
        this.hookChains = hookChains;
        this.support = support;
        this.transport = transport;
        this.session = new SessionState(id, remote, local);
    }

    public boolean busy() {
        return busy;
    }

    /** When the command that keeps the session busy started. */
    public long busySinceNanos() {
        return busySinceNanos;
    }

    public boolean inData() {
        return mode == Mode.DATA;
    }

    public boolean closed() {
        return mode == Mode.CLOSED;
    }

    public String id() {
        return session.id();
    }

    /** One line for administrators: id, client, state and age. Read from any thread; approximate by nature. */
    public String describe() {
        String state = mode == Mode.CLOSED ? "closing" : busy ? "waiting for plugins"
                : mode == Mode.DATA ? "in DATA" : mode == Mode.AUTH ? "in AUTH" : "idle";
        long seconds = (System.currentTimeMillis() - startedMillis) / 1000;
        return String.format("%-12s %-24s %-20s %6ds  %s", session.id(), session.remoteAddress().getAddress().getHostAddress()
                + ":" + session.remoteAddress().getPort(), state, seconds, session.heloHost().map(h -> "HELO " + h).orElse(""));
    }

    /** Runs pre_connection and connect, then greets (or refuses) the client. */
    public void start(int connectionsFromRemoteIp, int connections) {
        chains = hookChains.get();
        track(hook(HookType.PRE_CONNECTION, HookContexts.preConnection(scope(), connectionsFromRemoteIp, connections))
                .thenCompose(answer -> {
                    Decision refusal = Responses.decide(HookType.PRE_CONNECTION, answer, null);
                    return refusal != null ? respond(refusal)
                            : hook(HookType.CONNECT, plain()).thenCompose(this::connectRespond);
                }));
    }

    private CompletableFuture<Void> connectRespond(HookResult answer) {
        Decision decision = Responses.decide(HookType.CONNECT, answer, null);
        if (decision != null) {
            return respond(decision);
        }
        send(new Reply(220, null, List.of(settings.me() + " " + settings.greeting())));
        return completedFuture(null);
    }

    /** Takes one line from the client; call only while not {@link #busy()}. */
    public void onLine(SmtpLine line) {
        if (mode == Mode.CLOSED) {
            return;
        }
        if (mode == Mode.DATA) {
            dataLine(line);
            return;
        }
        if (mode == Mode.AUTH) {
            mode = Mode.COMMAND;
            if (line.tooLong() || line.bytes().length > settings.maxCommandLineLength()) {
                sasl = null;
                send(Reply.of(500, "5.5.6", "Authentication Exchange line is too long"));
                track(completedFuture(null));
                return;
            }
            track(saslStep(sasl.respond(new String(line.bytes(), StandardCharsets.UTF_8).strip())));
            return;
        }
        chains = hookChains.get();
        Reply lineError = commandLineError(line);
        if (lineError != null || inMalformedCommandLine) {
            // RFC 5321 2.3.8: only CRLF ends a line. A bare LF never splits one line into two commands.
            boolean continues = !line.crlf();
            Reply reply = inMalformedCommandLine || continues ? Reply.of(500, "5.5.2", BARE_LINE_ENDING) : lineError;
            inMalformedCommandLine = continues;
            if (!continues) {
                send(reply);
            }
            track(completedFuture(null));
            return;
        }
        String text = new String(line.bytes(), StandardCharsets.UTF_8).strip();
        int space = text.indexOf(' ');
        String verb = (space < 0 ? text : text.substring(0, space)).toLowerCase(Locale.ROOT);
        String arguments = space < 0 ? "" : text.substring(space + 1).strip();
        track(command(verb, arguments));
    }

    private static final String BARE_LINE_ENDING =
            "Syntax error: a command line must end with CRLF and hold no bare CR, LF or NUL (RFC 5321 2.3.8)";

    /** What is wrong with a command line as a line, before its words are read; null when nothing is. */
    private Reply commandLineError(SmtpLine line) {
        if (line.tooLong() || line.bytes().length > settings.maxCommandLineLength()) {
            return Reply.of(500, "5.5.2", "Line too long");
        }
        if (!line.crlf() || line.bareCr() || line.contains((byte) 0)) {
            return Reply.of(500, "5.5.2", BARE_LINE_ENDING);
        }
        if (line.bytes().length > 0 && (line.bytes()[0] == ' ' || line.bytes()[0] == '\t')) {
            return Reply.of(500, "5.5.2", "Syntax error: a command line must not start with white space");
        }
        return null;
    }

    private CompletableFuture<Void> command(String verb, String arguments) {
        return switch (verb) {
            case "helo" -> hello(arguments, false);
            case "ehlo" -> hello(arguments, true);
            case "mail" -> mail(arguments);
            case "rcpt" -> rcpt(arguments);
            case "data" -> data(arguments);
            case "rset" -> resetTransaction().thenRun(() -> send(Reply.of(250, "2.0.0", "OK")));
            case "noop" -> simpleCommand(HookType.NOOP, verb, arguments,
                    answer -> send(Reply.of(250, "2.0.0", "OK")));
            case "vrfy" -> simpleCommand(HookType.VRFY, verb, arguments, answer -> send(Reply.of(252, "2.0.0",
                    "Just try sending a mail and we'll see how it turns out ...")));
            case "help" -> simpleCommand(HookType.HELP, verb, arguments, this::helpRespond);
            case "quit" -> quit();
            case "auth" -> auth(arguments, verb);
            case "starttls" -> startTls(arguments, verb);
            default -> simpleCommand(HookType.UNRECOGNIZED_COMMAND, verb, arguments,
                    answer -> send(Reply.of(500, "5.5.1", "Unrecognized command")));
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
                send(Reply.of(501, "5.5.4", verb + " requires domain/address - see RFC-2821 4.1.1.1"));
                return completedFuture(null);
            }
            String host = words.get(0);
            HookType hook = extended ? HookType.EHLO : HookType.HELO;
            // RFC 5321 4.1.4: a repeated HELO/EHLO resets the session like RSET (qpsmtpd refuses it with 503).
            return resetTransaction()
                    .thenCompose(v -> hook(hook, HookContexts.helo(scope(), host, List.copyOf(words.subList(1, words.size())))))
                    .thenCompose(answer -> {
                        Decision decision = Responses.decide(hook, answer, null);
                        if (decision != null) {
                            return respond(decision);
                        }
                        session.hello(host, extended);
                        send(helloReply(extended));
                        return completedFuture(null);
                    });
        });
    }

    private Reply helloReply(boolean extended) {
        String ip = session.remoteIp();
        List<String> lines = new ArrayList<>();
        lines.add(settings.me() + " Hi " + ip + " [" + ip + "]" + (extended ? "" : "; I am so happy to meet you."));
        if (extended) {
            lines.add("PIPELINING");
            lines.add("8BITMIME");
            lines.add("SIZE " + settings.maxMessageSize());
            lines.add("ENHANCEDSTATUSCODES");
            if (transport.tlsAvailable()) {
                lines.add("STARTTLS");
            }
            List<String> mechanisms = authMechanisms();
            if (!mechanisms.isEmpty() && !authNeedsTls()) {
                lines.add("AUTH " + String.join(" ", mechanisms).toUpperCase(Locale.ROOT));
            }
        }
        return new Reply(250, null, lines);
    }

    // --- MAIL ---------------------------------------------------------------------------------------------

    private CompletableFuture<Void> mail(String arguments) {
        return resetTransaction().thenCompose(v -> {
            if (session.heloHost().isEmpty()) {
                send(Reply.of(503, "5.5.1", "please say hello first ..."));
                return completedFuture(null);
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
            send(Reply.of(501, "5.1.7", "could not parse your mail from command"));
            return completedFuture(null);
        }
        Reply parameterError = mailParameterError(parameters);
        if (parameterError != null) {
            send(parameterError);
            return completedFuture(null);
        }
        return hook(HookType.MAIL, HookContexts.mail(scope(), sender, parameters)).thenCompose(answer -> {
            Decision decision = Responses.decide(HookType.MAIL, answer, sender.format());
            if (decision != null) {
                LOG.info("session {}: MAIL FROM {} refused: {}", session.id(), sender.format(), answer);
                return respond(decision);
            }
            transaction.sender(sender, parameters);
            send(Reply.of(250, "2.1.0", sender.format() + ", sender OK - how exciting to get mail from you!"));
            return completedFuture(null);
        });
    }

    private Reply mailParameterError(Map<String, String> parameters) {
        for (Map.Entry<String, String> parameter : parameters.entrySet()) {
            if (!MAIL_PARAMETERS.contains(parameter.getKey())) {
                return Reply.of(555, "5.5.4", "Unsupported parameter " + parameter.getKey().toUpperCase(Locale.ROOT));
            }
        }
        String size = parameters.get("size");
        if (size != null) {
            long declared;
            try {
                declared = Long.parseLong(size);
            } catch (NumberFormatException e) {
                return Reply.of(501, "5.5.4", "Syntax error in SIZE parameter");
            }
            if (declared > settings.maxMessageSize()) {
                return Reply.of(552, "5.3.4", "Message size exceeds fixed maximum message size");
            }
        }
        String body = parameters.get("body");
        if (body != null && !body.equalsIgnoreCase("7BIT") && !body.equalsIgnoreCase("8BITMIME")) {
            return Reply.of(501, "5.5.4", "Unsupported BODY type " + body);
        }
        return null;
    }

    // --- RCPT ---------------------------------------------------------------------------------------------

    private CompletableFuture<Void> rcpt(String arguments) {
        if (transaction.sender().isEmpty()) {
            send(Reply.of(503, "5.5.1", "Use MAIL before RCPT"));
            return completedFuture(null);
        }
        if (transaction.recipients().size() >= settings.maxRecipients()) {
            send(Reply.of(452, "4.5.3", "Too many recipients"));
            return completedFuture(null);
        }
        return parseEnvelope(HookType.RCPT_PARSE, "rcpt", arguments, EnvelopeParser::parseRcpt, HookType.RCPT_PRE,
                "could not parse recipient", this::rcptAddress);
    }

    private CompletableFuture<Void> rcptAddress(String path, Map<String, String> parameters) {
        Address recipient = Address.parse(path).filter(a -> !a.isNullSender()).orElse(null);
        if (recipient == null) {
            send(Reply.of(501, "5.1.3", "could not parse recipient"));
            return completedFuture(null);
        }
        if (!parameters.isEmpty()) {
            String name = parameters.keySet().iterator().next();
            send(Reply.of(555, "5.5.4", "Unsupported parameter " + name.toUpperCase(Locale.ROOT)));
            return completedFuture(null);
        }
        return hook(HookType.RCPT, HookContexts.rcpt(scope(), recipient, parameters)).thenCompose(answer -> {
            if (answer.code() == ReturnCode.OK) {
                transaction.addRecipient(new Recipient(recipient, parameters));
                send(Reply.of(250, "2.1.5", recipient.format() + ", recipient ok"));
                return completedFuture(null);
            }
            LOG.info("session {}: RCPT TO {} not accepted: {}", session.id(), recipient.format(), answer);
            return respond(Responses.decide(HookType.RCPT, answer, recipient.format()));
        });
    }

    /** Shared by MAIL and RCPT: the parse hook (or built-in parser), then the *_pre hook, then the address. */
    private CompletableFuture<Void> parseEnvelope(HookType parseHook, String verb, String arguments,
            Function<String, EnvelopeParser.Parsed> builtIn, HookType preHook, String unparsable,
            AddressStep next) {
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
                send(Reply.of(501, "5.5.2", parsed.error()));
                return completedFuture(null);
            }
            Map<String, String> parameters = EnvelopeParser.parameterMap(parsed.parameters());
            return hook(preHook, HookContexts.addressPre(scope(), parsed.address(), parameters)).thenCompose(pre -> {
                String path = pre.code() == ReturnCode.OK && !pre.message().isEmpty() ? pre.message().get(0) : parsed.address();
                if (!path.startsWith("<") || !path.endsWith(">")) {
                    send(Reply.of(501, "5.5.2", unparsable));
                    return completedFuture(null);
                }
                return next.accept(path, parameters);
            });
        });
    }

    @FunctionalInterface
    private interface AddressStep {
        CompletableFuture<Void> accept(String path, Map<String, String> parameters);
    }

    // --- DATA ---------------------------------------------------------------------------------------------

    private CompletableFuture<Void> data(String arguments) {
        if (!arguments.isEmpty()) {
            send(Reply.of(501, "5.5.4", "DATA takes no arguments"));
            return completedFuture(null);
        }
        if (transaction.sender().isEmpty()) {
            send(Reply.of(503, "5.5.1", "MAIL first"));
            return completedFuture(null);
        }
        if (transaction.recipients().isEmpty()) {
            send(Reply.of(503, "5.5.1", "RCPT first"));
            return completedFuture(null);
        }
        return hook(HookType.DATA, plain()).thenCompose(answer -> {
            Decision decision = Responses.decide(HookType.DATA, answer, null);
            if (decision != null) {
                return decision.close() ? respond(decision) : resetTransaction().thenRun(() -> send(decision.reply()));
            }
            Spool spool = new Spool(settings.spoolFolder(), settings.spoolMemoryThreshold());
            transaction.body(spool);
            message = new MessageReceiver(spool, settings.maxMessageSize(), settings.maxHeaderSize());
            dataLineFollowsCrlf = true;
            mode = Mode.DATA;
            send(new Reply(354, null, List.of("go ahead")));
            return completedFuture(null);
        });
    }

    private void dataLine(SmtpLine line) {
        boolean lineStart = dataLineFollowsCrlf;
        dataLineFollowsCrlf = line.crlf();
        // Only CRLF "." CRLF ends DATA, the CRLF before the dot included: "<LF>.<CRLF>" is content (smuggling).
        if (line.isDot() && line.crlf() && lineStart) {
            mode = Mode.COMMAND;
            track(endOfData());
            return;
        }
        if (line.tooLong()) {
            message.lineTooLong();
            return;
        }
        boolean bare = !line.crlf() || line.bareCr();
        if (bare && settings.bareLineEndings() == BareLineEndings.REJECT) {
            LOG.info("session {}: bare LF or CR in DATA, closing", session.id());
            mode = Mode.COMMAND;
            track(resetTransaction().thenCompose(v -> respond(new Decision(Reply.of(554, "5.6.11",
                    "Bare LF or CR in message data is not allowed (RFC 5321 2.3.8); message rejected"), true))));
            return;
        }
        byte[] bytes = bare ? MessageReceiver.normalizeBareCr(line.bytes()) : line.bytes();
        // A lone dot that did not end DATA was not dot-stuffed by the client: it is content.
        int offset = bytes.length > 1 && bytes[0] == '.' ? 1 : 0;
        if (message.line(bytes, offset, bytes.length - offset)) {
            track(headersEnd(message));
        }
    }

    /**
     * data_headers_end. A refusal that keeps the connection open waits for the end of data, reading the rest
     * of the message without keeping it: the client only listens again after its final dot.
     */
    private CompletableFuture<Void> headersEnd(MessageReceiver received) {
        transaction.header(received.header());
        return hook(HookType.DATA_HEADERS_END, plain()).thenCompose(answer -> {
            Decision decision = Responses.decide(HookType.DATA_HEADERS_END, answer, null);
            if (decision == null) {
                return completedFuture(null);
            }
            LOG.info("session {}: message refused at data_headers_end: {}", session.id(), answer);
            if (!decision.close()) {
                received.refuse(decision.reply());
                return completedFuture(null);
            }
            mode = Mode.COMMAND;
            return respond(decision);
        });
    }

    private CompletableFuture<Void> endOfData() {
        MessageReceiver received = message;
        message = null;
        transaction.size(received.size());
        CompletableFuture<Void> header = received.endHeaderAtEndOfData() ? headersEnd(received) : completedFuture(null);
        return header.thenCompose(v -> {
            if (closing) {
                return completedFuture(null);
            }
            Reply refusal = received.refusal();
            if (received.spoolFailure() != null) {
                LOG.error("session {}: message not spooled to {}: {}", session.id(), settings.spoolFolder(),
                        received.spoolFailure().toString());
            }
            if (refusal == null && received.tooBig()) {
                refusal = Reply.of(552, "5.3.4", "Message too big!");
            } else if (refusal == null && received.headerTooBig()) {
                refusal = Reply.of(552, "5.3.4", "Message header too large");
            } else if (refusal == null && received.hadLineTooLong()) {
                refusal = Reply.of(500, "5.5.2", "Message line too long");
            }
            if (refusal != null) {
                LOG.info("session {}: message refused at end of DATA: {}", session.id(), refusal);
                statistics.transaction(false);
                Reply reply = refusal;
                return resetTransaction().thenRun(() -> send(reply));
            }
            return addReceivedLine().thenCompose(x -> contentHook(HookType.DATA_POST_HEADERS,
                    () -> contentHook(HookType.DATA_POST, () -> contentHook(HookType.QUEUE_PRE, this::queue))));
        });
    }

    private CompletableFuture<Void> addReceivedLine() {
        // RFC 3848: ESMTPS with TLS, ESMTPA once the client authenticated, ESMTPSA for both
        String smtpType = !session.extended() ? "SMTP"
                : "ESMTP" + (session.tls() ? "S" : "") + (session.authMechanism() != null ? "A" : "");
        String tlsInfo = session.tls() ? "(" + session.tlsDescription() + " encrypted)" : "";
        String authInfo = session.authMechanism() == null ? ""
                : "(smtp-auth username " + session.authenticatedUser().orElse("") + ", mechanism " + session.authMechanism() + ")";
        return hook(HookType.RECEIVED_LINE, HookContexts.receivedLine(scope(), smtpType, authInfo, tlsInfo)).thenAccept(answer -> {
            String value = answer.code() == ReturnCode.OK && !answer.message().isEmpty()
                    ? String.join("\r\n\t", answer.message())
                    : "from " + session.remoteIp() + " (HELO " + session.heloHost().orElse("") + ") (" + session.remoteIp()
                            + ")\r\n\tby " + settings.me() + " (Postern) with " + (tlsInfo.isEmpty() ? "" : tlsInfo + " ")
                            + smtpType + " id " + session.id() + "; "
                            + RECEIVED_DATE.format(ZonedDateTime.now());
            transaction.parsedHeader().prepend("Received", value);
        });
    }

    /** data_post_headers, data_post and queue_pre: a refusal ends the transaction, anything else goes on. */
    private CompletableFuture<Void> contentHook(HookType hook, Supplier<CompletableFuture<Void>> next) {
        return hook(hook, plain()).thenCompose(answer -> {
            if (mode == Mode.CLOSED) {
                // The client is gone and got no 250: it will send the message again, so this copy must not be queued.
                LOG.info("session {}: connection lost during {}; message not queued", session.id(), hook.hookName());
                return completedFuture(null);
            }
            Decision decision = Responses.decide(hook, answer, null);
            if (decision == null) {
                return next.get();
            }
            LOG.info("session {}: message refused at {}: {}", session.id(), hook.hookName(), answer);
            statistics.transaction(false);
            return decision.close() ? respond(decision) : resetTransaction().thenRun(() -> send(decision.reply()));
        });
    }

    private CompletableFuture<Void> queue() {
        return hook(HookType.QUEUE, plain()).thenCompose(answer -> {
            Decision decision = Responses.decide(HookType.QUEUE, answer, null);
            Reply reply;
            statistics.transaction(decision == null);
            if (decision != null) {
                reply = decision.reply();
                LOG.warn("session {}: message not queued: {}", session.id(), answer);
            } else {
                reply = Responses.replyFor(new Responses.Rule(250, "2.0.0", "Queued", false), answer, null);
                LOG.info("session {}: message from {} to {} recipient(s), {} octets queued", session.id(),
                        transaction.sender().map(Address::format).orElse("?"), transaction.recipients().size(), transaction.size());
            }
            return resetTransaction().thenCompose(v -> {
                send(reply);
                return hook(HookType.QUEUE_POST, plain());
            }).thenAccept(post -> {
                if (post.code() != ReturnCode.OK && post.code() != ReturnCode.DECLINED) {
                    LOG.error("session {}: queue_post answered {}", session.id(), post);
                }
            });
        });
    }

    // --- AUTH (RFC 4954, authentication.pod) ---------------------------------------------------------------

    /** The mechanisms offered: those with a plugin of their own, all three when a plugin answers plain "auth". */
    private List<String> authMechanisms() {
        List<String> offered = new ArrayList<>();
        for (Map.Entry<HookType, String> mechanism : new java.util.TreeMap<>(AUTH_MECHANISMS).entrySet()) {
            if (chains.has(HookType.AUTH) || chains.has(mechanism.getKey())) {
                offered.add(mechanism.getValue());
            }
        }
        return offered;
    }

    /** qpsmtpd's tls_before_auth: with STARTTLS available, credentials are not taken in the clear. */
    private boolean authNeedsTls() {
        return settings.auth().tlsBeforeAuth() && transport.tlsAvailable();
    }

    private CompletableFuture<Void> auth(String arguments, String verb) {
        List<String> offered = authMechanisms();
        if (offered.isEmpty()) {
            return simpleCommand(HookType.UNRECOGNIZED_COMMAND, verb, arguments,
                    answer -> send(Reply.of(500, "5.5.1", "Unrecognized command")));
        }
        if (authNeedsTls()) {
            send(Reply.of(530, "5.7.0", "Must issue a STARTTLS command first"));
            return completedFuture(null);
        }
        if (authFailureBudget.exhausted(session.remoteAddress().getAddress())) {
            return authBudgetExhausted();
        }
        if (!session.extended()) {
            send(Reply.of(503, "5.5.1", "AUTH not defined for HELO"));
            return completedFuture(null);
        }
        if (session.authenticatedUser().isPresent()) {
            send(Reply.of(503, "5.5.1", "but you already said AUTH ..."));
            return completedFuture(null);
        }
        if (transaction.sender().isPresent()) {
            send(Reply.of(503, "5.5.1", "AUTH is not permitted during a mail transaction"));
            return completedFuture(null);
        }
        return hook(HookType.AUTH_PARSE, HookContexts.parse(scope(), verb, arguments)).thenCompose(parsed -> {
            List<String> words;
            if (parsed.code() == ReturnCode.OK) {
                words = parsed.message();
            } else if (parsed.code() != ReturnCode.DECLINED) {
                send(Reply.of(501, "5.5.2", parsed.message().isEmpty() ? "Syntax error in command" : parsed.message().get(0)));
                return completedFuture(null);
            } else {
                words = arguments.isEmpty() ? List.of() : List.of(arguments.split("\\s+"));
            }
            if (words.isEmpty() || words.size() > 2) {
                send(Reply.of(501, "5.5.2", "Syntax error in command"));
                return completedFuture(null);
            }
            String mechanism = words.get(0).toLowerCase(Locale.ROOT);
            if (!offered.contains(mechanism)) {
                send(Reply.of(504, "5.5.4", "Unimplemented authentication mechanism: " + mechanism));
                return completedFuture(null);
            }
            sasl = SaslExchange.forMechanism(mechanism, settings.me());
            String initial = words.size() == 2 && !words.get(1).equals("=") ? words.get(1) : words.size() == 2 ? "" : null;
            return saslStep(sasl.begin(initial));
        });
    }

    private CompletableFuture<Void> saslStep(SaslExchange.Step step) {
        if (step instanceof SaslExchange.Challenge challenge) {
            send(new Reply(334, null, List.of(challenge.text())));
            mode = Mode.AUTH;
            return completedFuture(null);
        }
        sasl = null;
        if (step instanceof SaslExchange.Failed failed) {
            send(failed.reply());
            return completedFuture(null);
        }
        SaslExchange.Credentials credentials = ((SaslExchange.Done) step).credentials();
        String mechanism = credentials.mechanism().toUpperCase(Locale.ROOT);
        HookType specific = AUTH_MECHANISMS.entrySet().stream().filter(e -> e.getValue().equals(credentials.mechanism()))
                .findFirst().orElseThrow().getKey();
        HookContext ctx = HookContexts.auth(scope(), credentials.mechanism(), credentials.user(), credentials.clearPassword(),
                credentials.hashedPassword(), credentials.ticket());
        long checkStarted = System.nanoTime();
        return hook(specific, ctx)
                .thenCompose(answer -> answer.code() == ReturnCode.DECLINED ? hook(HookType.AUTH, ctx) : completedFuture(answer))
                .thenCompose(answer -> {
                    String detail = answer.message().isEmpty() ? "" : " - " + String.join(" ", answer.message());
                    if (answer.code() == ReturnCode.OK) {
                        session.authenticated(credentials.user(), mechanism);
                        LOG.info("session {}: authenticated {} with {}", session.id(), credentials.user(), mechanism);
                        send(Reply.of(235, "2.7.0", mechanism + " authentication successful for " + credentials.user() + detail));
                        return completedFuture(null);
                    }
                    if (answer.code() == ReturnCode.DENYSOFT || answer.code() == ReturnCode.DENYSOFT_DISCONNECT) {
                        send(Reply.of(454, "4.7.0", mechanism + " authentication failed temporarily for " + credentials.user() + detail));
                        return completedFuture(null);
                    }
                    // The plugin's reason goes to the log only: telling "no such user" from "wrong password"
                    // would tell a guesser which users exist.
                    LOG.info("session {}: authentication of {} with {} failed{}", session.id(), credentials.user(), mechanism, detail);
                    return authFailed(mechanism, credentials.user(), checkStarted);
                });
    }

    /**
     * A failed attempt is answered late, later with each failure in the session, and counted against the
     * client network's budget; the delay holds no thread, and the session reads nothing meanwhile. The delay
     * counts from when the plugins were asked, so an unknown user (answered at once) and a wrong password
     * (answered after hashing) take the same time.
     */
    private CompletableFuture<Void> authFailed(String mechanism, String user, long checkStarted) {
        authFailures++;
        errors++;
        boolean budgetUsedUp = authFailureBudget.failed(session.remoteAddress().getAddress());
        Reply reply = Reply.of(535, "5.7.8", mechanism + " authentication failed for " + user);
        long elapsedMillis = (System.nanoTime() - checkStarted) / 1_000_000;
        long delayMillis = Math.max(0, settings.auth().delayAfter(authFailures).toMillis() - elapsedMillis);
        CompletableFuture<Void> delayed = delayMillis == 0 ? completedFuture(null)
                : CompletableFuture.runAsync(() -> { },
                        CompletableFuture.delayedExecutor(delayMillis, TimeUnit.MILLISECONDS, transport.executor()));
        return delayed.thenCompose(v -> {
            if (mode == Mode.CLOSED) {
                return completedFuture(null);
            }
            send(reply);
            return budgetUsedUp ? authBudgetExhausted() : completedFuture(null);
        });
    }

    private CompletableFuture<Void> authBudgetExhausted() {
        LOG.warn("session {}: too many failed AUTH attempts from {}, closing", session.id(), session.remoteIp());
        return respond(new Decision(Reply.of(421, "4.7.0",
                settings.me() + " Too many failed authentication attempts from your address; try again later"), true));
    }

    // --- STARTTLS (RFC 3207) -----------------------------------------------------------------------------

    private CompletableFuture<Void> startTls(String arguments, String verb) {
        if (!transport.tlsAvailable()) {
            if (session.tls()) {
                send(Reply.of(503, "5.5.1", "TLS already active"));
                return completedFuture(null);
            }
            return simpleCommand(HookType.UNRECOGNIZED_COMMAND, verb, arguments,
                    answer -> send(Reply.of(500, "5.5.1", "Unrecognized command")));
        }
        if (!arguments.isEmpty()) {
            send(Reply.of(501, "5.5.4", "Syntax error (no parameters allowed)"));
            return completedFuture(null);
        }
        return transport.startTls(Reply.of(220, "2.0.0", "Ready to start TLS")).handle((description, error) -> {
            if (error != null) {
                LOG.info("session {}: TLS handshake failed: {}", session.id(), error.toString());
                mode = Mode.CLOSED;
                transport.close();
                return null;
            }
            LOG.info("session {}: TLS started, {}", session.id(), description);
            session.tlsStarted(description);
            return resetTransaction();
        }).thenCompose(reset -> reset == null ? completedFuture(null) : reset);
    }

    // --- NOOP, VRFY, HELP, unknown commands, QUIT ---------------------------------------------------------

    /**
     * A command whose reply is decided by one hook: a rule from the table, or the command's own default (also
     * for a DONE that brought no reply of its own, so the client is never left waiting).
     */
    private CompletableFuture<Void> simpleCommand(HookType hook, String verb, String arguments,
            Consumer<HookResult> otherwise) {
        List<String> words = arguments.isEmpty() ? List.of() : List.of(arguments.split("\\s+"));
        return hook(hook, HookContexts.command(scope(), verb, words)).thenCompose(answer -> {
            Decision decision = Responses.decide(hook, answer, null);
            if (decision != null) {
                if (hook == HookType.VRFY && answer.code() == ReturnCode.DENY) {
                    return resetTransaction().thenRun(() -> send(decision.reply()));
                }
                return respond(decision);
            }
            otherwise.accept(answer);
            return completedFuture(null);
        });
    }

    private void helpRespond(HookResult answer) {
        List<String> lines = answer.message().isEmpty()
                ? List.of("This is Postern, a plugin-driven SMTP server.",
                        "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT")
                : answer.message();
        send(new Reply(214, "2.0.0", lines));
    }

    private CompletableFuture<Void> quit() {
        return hook(HookType.QUIT, plain()).thenCompose(answer -> {
            Decision pluginReply = Responses.decide(HookType.QUIT, answer, null);
            send(pluginReply != null ? pluginReply.reply()
                    : Reply.of(221, "2.0.0", settings.me() + " closing connection. Have a wonderful day."));
            return disconnect();
        });
    }

    // --- connection end -----------------------------------------------------------------------------------

    /** The client was idle too long. */
    public void onTimeout() {
        if (mode == Mode.CLOSED || busy) {
            return;
        }
        LOG.info("session {}: idle timeout", session.id());
        mode = Mode.COMMAND;
        track(respond(new Decision(Reply.of(421, "4.4.2", settings.me() + " Timeout; closing connection"), true)));
    }

    /**
     * Plugins have kept one command from being answered for as long as a client may wait: the client is told,
     * and the connection closes without running further hooks (they would wait behind the stuck ones).
     */
    public void onBusyTooLong() {
        if (mode == Mode.CLOSED) {
            return;
        }
        LOG.warn("session {}: plugins did not answer in time; closing the connection", session.id());
        mode = Mode.CLOSED;
        send(Reply.of(421, "4.4.2", settings.me() + " Timeout waiting for plugins; closing connection"));
        transport.close();
    }

    /** The connection is gone, however it ended: post_connection runs and the spool is cleaned up. */
    public void onClosed() {
        mode = Mode.CLOSED;
        discard(transaction);
        if (chains.has(HookType.POST_CONNECTION)) {
            runner.run(chains, HookType.POST_CONNECTION, plain());
        }
    }

    private CompletableFuture<Void> respond(Decision decision) {
        send(decision.reply());
        return decision.close() ? disconnect() : completedFuture(null);
    }

    private CompletableFuture<Void> disconnect() {
        closing = true;
        return hook(HookType.DISCONNECT, plain()).thenCompose(answer -> resetTransaction()).thenRun(() -> {
            mode = Mode.CLOSED;
            transport.close();
        });
    }

    private CompletableFuture<Void> resetTransaction() {
        TransactionState ending = transaction;
        transaction = new TransactionState();
        message = null;
        if (!chains.has(HookType.RESET_TRANSACTION)) {
            discard(ending);
            return completedFuture(null);
        }
        Scope endingScope = new Scope(session, ending, support);
        return hook(HookType.RESET_TRANSACTION, HookContexts.plain(endingScope)).thenRun(() -> discard(ending));
    }

    private void discard(TransactionState ending) {
        try {
            ending.discard();
        } catch (IOException e) {
            LOG.warn("session {}: could not delete a spool file", session.id(), e);
        }
    }

    // --- plumbing -----------------------------------------------------------------------------------------

    private void send(Reply reply) {
        LOG.debug("session {}: {}", session.id(), reply);
        transport.send(reply);
        if (isClientError(reply.code())) {
            errors++;
        }
    }

    /** Replies that blame the client's syntax or command order, as Postfix's hard error limit counts them. */
    private static boolean isClientError(int code) {
        return (code >= 500 && code <= 504) || code == 555;
    }

    private Scope scope() {
        return new Scope(session, transaction, support);
    }

    private HookContext plain() {
        return HookContexts.plain(scope());
    }

    /** Runs a hook; the answer arrives on the connection's thread. A hook nobody registered costs no hop. */
    private CompletableFuture<HookResult> hook(HookType hook, HookContext ctx) {
        if (!chains.has(hook)) {
            return completedFuture(HookResult.declined());
        }
        return runner.run(chains, hook, ctx).thenApplyAsync(Function.identity(), transport.executor());
    }

    /** Marks the session busy until the work is done, then lets the transport hand over the next line. */
    private void track(CompletableFuture<Void> work) {
        if (!busy) {
            busySinceNanos = System.nanoTime();
        }
        busy = true;
        work.whenComplete((v, error) -> {
            if (error != null) {
                LOG.error("session {}: command failed", session.id(), error);
                if (mode != Mode.CLOSED) {
                    send(Reply.of(451, "4.3.0", "Internal error - try again later"));
                    mode = Mode.COMMAND;
                    message = null;
                    discard(transaction);
                    transaction = new TransactionState();
                }
            }
            if (errors >= settings.maxErrors() && !closing && mode != Mode.CLOSED) {
                LOG.info("session {}: {} syntax or sequence errors, disconnecting", session.id(), errors);
                mode = Mode.COMMAND;
                track(respond(new Decision(Reply.of(421, "4.7.0", settings.me() + " Too many errors, closing connection"), true)));
                return;
            }
            busy = false;
            transport.ready();
        });
    }
}
