package org.postern.smtp.core.internal.protocol;

import static java.util.concurrent.CompletableFuture.completedFuture;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.monitor.TransactionRecord;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.core.internal.dispatch.HookContexts;
import org.postern.smtp.core.internal.dispatch.HookRunner.HookFailure;
import org.postern.smtp.core.internal.protocol.Responses.Decision;
import org.postern.smtp.core.internal.protocol.SessionSettings.BareLineEndings;

/**
 * A message from DATA to its reply: the data hook and 354, the lines up to the final dot (data_headers_end on
 * the way), then received_line, data_post_headers, data_post, queue_pre, queue and queue_post, as qpsmtpd's
 * {@code data_respond} and {@code queue} run them. A refusal ends the transaction; the connection goes on
 * unless the refusal closes it.
 */
final class DataExchange {
    private static final DateTimeFormatter RECEIVED_DATE = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.ROOT);

    private final SmtpSession session;

    DataExchange(SmtpSession session) {
        this.session = session;
    }

    /** The DATA command. */
    CompletableFuture<Void> data(String arguments) {
        TransactionState transaction = session.transaction();
        if (!arguments.isEmpty()) {
            return session.reply(Responses.DATA_ARGUMENTS);
        }
        if (transaction.sender().isEmpty()) {
            return session.reply(Responses.MAIL_FIRST);
        }
        if (transaction.recipients().isEmpty()) {
            return session.reply(Responses.RCPT_FIRST);
        }
        return session.hook(HookType.DATA, session.plain()).thenCompose(answer -> session.refuseOr(HookType.DATA, answer, () -> {
            SessionSettings settings = session.settings();
            Spool spool = new Spool(settings.spoolFolder(), settings.spoolMemoryThreshold());
            transaction.body(spool);
            session.enter(new Phase.ReceivingData(new MessageReceiver(spool, settings.maxMessageSize(), settings.maxHeaderSize())));
            return session.reply(Responses.replyFor(Responses.GO_AHEAD, answer, null));
        }));
    }

    /** One line between 354 and the final dot. */
    void line(MessageReceiver message, SmtpLine line) {
        if (message.endsData(line)) {
            session.enter(Phase.COMMANDS);
            session.track(() -> endOfData(message));
            return;
        }
        if (line.tooLong()) {
            message.lineTooLong();
            return;
        }
        boolean bare = !line.crlf() || line.bareCr();
        if (bare && session.settings().bareLineEndings() == BareLineEndings.REJECT) {
            session.log(LogLevel.INFO, "bare LF or CR in DATA, closing");
            session.enter(Phase.COMMANDS);
            session.track(() -> session.resetTransaction().thenCompose(v -> session.respond(Responses.bareLineInData())));
            return;
        }
        byte[] bytes = bare ? MessageReceiver.normalizeBareCr(line.bytes()) : line.bytes();
        // A lone dot that did not end DATA was not dot-stuffed by the client: it is content.
        int offset = bytes.length > 1 && bytes[0] == '.' ? 1 : 0;
        if (message.line(bytes, offset, bytes.length - offset)) {
            session.track(() -> headersEnd(message));
        }
    }

    /**
     * data_headers_end. A refusal that keeps the connection open waits for the end of data, reading the rest
     * of the message without keeping it: the client only listens again after its final dot.
     */
    private CompletableFuture<Void> headersEnd(MessageReceiver received) {
        session.transaction().header(received.header());
        return session.hook(HookType.DATA_HEADERS_END, session.plain()).handle((answer, error) -> {
            HookFailure failure = SmtpSession.hookFailure(error);
            if (failure != null) {
                received.refuse(Responses.pluginFailed(failure.answer()).reply());
                return completedFuture((Void) null);
            }
            if (error != null) {
                return CompletableFuture.<Void>failedFuture(error);
            }
            return afterHeaders(received, answer);
        }).thenCompose(Function.identity());
    }

    private CompletableFuture<Void> afterHeaders(MessageReceiver received, HookResult answer) {
        Decision decision = Responses.decide(HookType.DATA_HEADERS_END, answer, null);
        if (decision == null) {
            return completedFuture(null);
        }
        session.log(LogLevel.INFO, "message refused at data_headers_end: {}", answer);
        if (!decision.close()) {
            received.refuse(decision.reply());
            return completedFuture(null);
        }
        session.enter(Phase.COMMANDS);
        return session.respond(decision);
    }

    private CompletableFuture<Void> endOfData(MessageReceiver received) {
        session.transaction().size(received.size());
        CompletableFuture<Void> header = received.endHeaderAtEndOfData() ? headersEnd(received) : completedFuture(null);
        return header.thenCompose(v -> {
            if (session.ending()) {
                return completedFuture(null);
            }
            Reply refusal = refusalAtEndOfData(received);
            if (refusal != null) {
                session.log(LogLevel.INFO, "message refused at end of DATA: {}", refusal);
                return notQueued(refusal);
            }
            HeaderField authenticationResults = addAuthenticationResults();
            return addReceivedLine().thenCompose(x -> contentHook(HookType.DATA_POST_HEADERS,
                    () -> contentHook(HookType.DATA_POST, () -> {
                        completeAuthenticationResults(authenticationResults);
                        return contentHook(HookType.QUEUE_PRE, this::queue);
                    })))
                    .exceptionallyCompose(error -> {
                        HookFailure failure = SmtpSession.hookFailure(error);
                        return failure == null ? CompletableFuture.failedFuture(error)
                                : notQueued(Responses.pluginFailed(failure.answer()).reply());
                    });
        });
    }

    /** The message is refused at the final dot: the transaction ends, and the reply closes if it is a 421. */
    private CompletableFuture<Void> notQueued(Reply refusal) {
        session.transaction().ended(TransactionRecord.Outcome.REFUSED, refusal);
        return session.resetTransaction().thenCompose(x -> session.respond(new Decision(refusal, refusal.code() == 421)));
    }

    private Reply refusalAtEndOfData(MessageReceiver received) {
        if (received.spoolFailure() != null) {
            session.log(LogLevel.ERROR, "message not spooled to {}: {}", session.settings().spoolFolder(),
                    received.spoolFailure().toString());
        }
        if (received.refusal() != null) {
            return received.refusal();
        }
        if (received.tooBig()) {
            return Responses.MESSAGE_TOO_BIG;
        }
        if (received.headerTooBig()) {
            return Responses.HEADER_TOO_BIG;
        }
        return received.hadLineTooLong() ? Responses.MESSAGE_LINE_TOO_LONG : null;
    }

    /**
     * qpsmtpd's {@code authentication_results}: an Authentication-Results header (RFC 8601) under the Received
     * line, with this server's SMTP AUTH result and what plugins stored for the session
     * ({@link SharedNotes#AUTHENTICATION_RESULTS}) and the transaction ({@link SharedNotes#TRANSACTION_AUTHENTICATION_RESULTS}).
     * Plugins up to data_post see it as it stands; {@link #completeAuthenticationResults} adds what they found.
     */
    private HeaderField addAuthenticationResults() {
        return session.transaction().parsedHeader().prependField("Authentication-Results", authenticationResults());
    }

    /** Rewrites the field in place with the results stored since, unless a plugin took it out of the header. */
    private void completeAuthenticationResults(HeaderField written) {
        String results = authenticationResults();
        if (!written.unfoldedValue().equals(results)) {
            session.transaction().parsedHeader().replace(written, new HeaderField(written.name(), " " + results));
        }
    }

    private String authenticationResults() {
        SessionState state = session.state();
        StringBuilder results = new StringBuilder(session.settings().me()).append("; ");
        results.append(state.authMechanism().map(mechanism ->
                "auth=pass (" + mechanism + ") smtp.auth=" + state.authenticatedUser().orElse("")).orElse("auth=none"));
        state.notes().get(SharedNotes.AUTHENTICATION_RESULTS).ifPresent(more -> results.append("; ").append(more));
        session.transaction().notes().get(SharedNotes.TRANSACTION_AUTHENTICATION_RESULTS)
                .ifPresent(more -> results.append("; ").append(more));
        return results.toString();
    }

    private CompletableFuture<Void> addReceivedLine() {
        SessionState state = session.state();
        // RFC 3848: ESMTPS with TLS, ESMTPA once the client authenticated, ESMTPSA for both
        String smtpType = !state.extended() ? "SMTP"
                : "ESMTP" + (state.tls() ? "S" : "") + (state.authMechanism().isPresent() ? "A" : "");
        String tlsInfo = state.tls() ? "(" + state.tlsDescription() + " encrypted)" : "";
        String authInfo = state.authMechanism().map(mechanism ->
                "(smtp-auth username " + state.authenticatedUser().orElse("") + ", mechanism " + mechanism + ")").orElse("");
        return session.hook(HookType.RECEIVED_LINE, HookContexts.receivedLine(session.scope(), smtpType, authInfo, tlsInfo))
                .thenAccept(answer -> {
                    String value = answer.code() == ReturnCode.OK && !answer.message().isEmpty()
                            ? String.join("\r\n\t", answer.message())
                            : "from " + state.remoteInfo() + " (HELO " + state.heloHost().orElse("") + ") (" + state.remoteIp()
                                    + ")\r\n\tby " + session.settings().me() + " (Postern) with " + (tlsInfo.isEmpty() ? "" : tlsInfo + " ")
                                    + smtpType + " id " + state.id() + "; "
                                    + RECEIVED_DATE.format(ZonedDateTime.now());
                    session.transaction().parsedHeader().prepend("Received", value);
                });
    }

    /** data_post_headers, data_post and queue_pre: a refusal ends the transaction, anything else goes on. */
    private CompletableFuture<Void> contentHook(HookType hook, Supplier<CompletableFuture<Void>> next) {
        return session.hook(hook, session.plain()).thenCompose(answer -> {
            if (session.phase() == Phase.CLOSED) {
                // The client is gone and got no 250: it will send the message again, so this copy must not be queued.
                session.log(LogLevel.INFO, "connection lost during {}; message not queued", hook.hookName());
                return completedFuture(null);
            }
            Decision decision = Responses.decide(hook, answer, null);
            if (decision == null) {
                return next.get();
            }
            session.log(LogLevel.INFO, "message refused at {}: {}", hook.hookName(), answer);
            return session.refuse(decision);
        });
    }

    /**
     * queue, then the reply, then queue_post, which hears of every queue attempt (a plugin that failed or
     * timed out included) but a DONE, whose plugin answered for itself, as qpsmtpd's {@code queue_respond}.
     */
    private CompletableFuture<Void> queue() {
        TransactionState transaction = session.transaction();
        return session.hook(HookType.QUEUE, session.plain()).handle((answer, error) -> {
            HookFailure failure = SmtpSession.hookFailure(error);
            if (error != null && failure == null) {
                return CompletableFuture.<Void>failedFuture(error);
            }
            Decision decision = failure != null ? Responses.pluginFailed(failure.answer()) : Responses.decide(HookType.QUEUE, answer, null);
            if (decision != null) {
                session.log(LogLevel.WARN, "message not queued: {}", failure != null ? "plugin failure" : answer);
                transaction.ended(TransactionRecord.Outcome.REFUSED, decision.reply());
            } else {
                decision = new Decision(Responses.replyFor(Responses.QUEUED, answer, null), false);
                transaction.ended(TransactionRecord.Outcome.QUEUED, decision.reply());
            }
            Decision reply = decision;
            boolean done = failure == null && answer.code() == ReturnCode.DONE;
            return session.resetTransaction().thenCompose(v -> {
                session.send(reply.reply());
                return done ? completedFuture(HookResult.declined()) : session.hook(HookType.QUEUE_POST, session.plain());
            }).thenCompose(post -> {
                if (post.code() != ReturnCode.OK && post.code() != ReturnCode.DECLINED) {
                    session.log(LogLevel.ERROR, "queue_post answered {}", post);
                }
                // RFC 5321 3.8: a 421 closes the connection, here as at every hook
                return reply.close() ? session.disconnect() : completedFuture((Void) null);
            });
        }).thenCompose(Function.identity());
    }
}
