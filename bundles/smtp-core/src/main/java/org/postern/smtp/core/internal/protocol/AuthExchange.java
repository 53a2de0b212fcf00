package org.postern.smtp.core.internal.protocol;

import static java.util.concurrent.CompletableFuture.completedFuture;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.core.internal.dispatch.HookContexts;

/**
 * AUTH (RFC 4954) as authentication.pod drives it: auth_parse, the SASL exchange, then the mechanism's own
 * hook and the catch-all {@code auth} hook. Failed attempts are answered late, and counted per client
 * network across connections ({@link AuthFailureBudget}).
 */
final class AuthExchange {
    private static final Map<HookType, String> MECHANISMS = new TreeMap<>(Map.of(
            HookType.AUTH_PLAIN, "plain", HookType.AUTH_LOGIN, "login", HookType.AUTH_CRAM_MD5, "cram-md5"));

    private final SmtpSession session;
    private final AuthFailureBudget budget;
    private int failures;

    AuthExchange(SmtpSession session, AuthFailureBudget budget) {
        this.session = session;
        this.budget = budget;
    }

    /** The mechanisms offered: those with a plugin of their own, all three when a plugin answers plain "auth". */
    List<String> mechanisms() {
        List<String> offered = new ArrayList<>();
        for (Map.Entry<HookType, String> mechanism : MECHANISMS.entrySet()) {
            if (session.chains().has(HookType.AUTH) || session.chains().has(mechanism.getKey())) {
                offered.add(mechanism.getValue());
            }
        }
        return offered;
    }

    /** qpsmtpd's tls_before_auth: with STARTTLS available, credentials are not taken in the clear. */
    boolean needsTls() {
        return session.settings().auth().tlsBeforeAuth() && session.transport().tlsAvailable();
    }

    /** The AUTH command. */
    CompletableFuture<Void> auth(String verb, String arguments) {
        List<String> offered = mechanisms();
        if (offered.isEmpty()) {
            return session.unrecognized(verb, arguments);
        }
        if (needsTls()) {
            return session.reply(Responses.STARTTLS_BEFORE_AUTH);
        }
        if (budget.exhausted(session.state().remoteAddress().getAddress())) {
            return budgetUsedUp();
        }
        if (!session.state().extended()) {
            return session.reply(Responses.AUTH_AFTER_HELO);
        }
        if (session.state().authenticatedUser().isPresent()) {
            return session.reply(Responses.AUTH_AGAIN);
        }
        if (session.transaction().sender().isPresent()) {
            return session.reply(Responses.AUTH_IN_TRANSACTION);
        }
        return session.hook(HookType.AUTH_PARSE, HookContexts.parse(session.scope(), verb, arguments)).thenCompose(parsed -> {
            List<String> words;
            if (parsed.code() == ReturnCode.OK) {
                words = parsed.message();
            } else if (parsed.code() != ReturnCode.DECLINED) {
                return session.reply(parsed.message().isEmpty() ? Responses.AUTH_SYNTAX : Responses.syntaxError(parsed.message().get(0)));
            } else {
                words = arguments.isEmpty() ? List.of() : List.of(arguments.split("\\s+"));
            }
            if (words.isEmpty() || words.size() > 2) {
                return session.reply(Responses.AUTH_SYNTAX);
            }
            String mechanism = words.get(0).toLowerCase(Locale.ROOT);
            if (!offered.contains(mechanism)) {
                return session.reply(Responses.unimplementedMechanism(mechanism));
            }
            SaslExchange exchange = SaslExchange.forMechanism(mechanism, session.settings().me());
            String initial = words.size() == 2 && !words.get(1).equals("=") ? words.get(1) : words.size() == 2 ? "" : null;
            return step(exchange, exchange.begin(initial));
        });
    }

    /** The client's answer to a challenge. */
    CompletableFuture<Void> respond(SaslExchange exchange, SmtpLine line) {
        session.enter(Phase.COMMANDS);
        if (line.tooLong() || line.bytes().length > session.settings().maxCommandLineLength()) {
            return session.reply(Responses.AUTH_LINE_TOO_LONG);
        }
        return step(exchange, exchange.respond(new String(line.bytes(), StandardCharsets.UTF_8).strip()));
    }

    private CompletableFuture<Void> step(SaslExchange exchange, SaslExchange.Step step) {
        if (step instanceof SaslExchange.Challenge challenge) {
            session.enter(new Phase.Authenticating(exchange));
            return session.reply(new Reply(334, null, List.of(challenge.text())));
        }
        if (step instanceof SaslExchange.Failed failed) {
            return session.reply(failed.reply());
        }
        return check(((SaslExchange.Done) step).credentials());
    }

    private CompletableFuture<Void> check(SaslExchange.Credentials credentials) {
        String mechanism = credentials.mechanism().toUpperCase(Locale.ROOT);
        String user = credentials.user();
        HookType specific = MECHANISMS.entrySet().stream().filter(e -> e.getValue().equals(credentials.mechanism()))
                .findFirst().orElseThrow().getKey();
        HookContext ctx = HookContexts.auth(session.scope(), credentials.mechanism(), user, credentials.clearPassword(),
                credentials.hashedPassword(), credentials.ticket());
        long checkStarted = System.nanoTime();
        return session.hook(specific, ctx)
                .thenCompose(answer -> answer.code() == ReturnCode.DECLINED ? session.hook(HookType.AUTH, ctx) : completedFuture(answer))
                .thenCompose(answer -> {
                    String detail = answer.message().isEmpty() ? "" : " - " + String.join(" ", answer.message());
                    if (answer.code() == ReturnCode.OK) {
                        session.state().authenticated(user, mechanism);
                        session.log(LogLevel.INFO, "authenticated {} with {}", user, mechanism);
                        return session.reply(Responses.authSucceeded(mechanism, user, detail));
                    }
                    if (answer.code() == ReturnCode.DENYSOFT || answer.code() == ReturnCode.DENYSOFT_DISCONNECT) {
                        return session.reply(Responses.authFailedTemporarily(mechanism, user, detail));
                    }
                    session.log(LogLevel.INFO, "authentication of {} with {} failed{}", user, mechanism, detail);
                    return failed(mechanism, user, checkStarted);
                })
                .exceptionallyCompose(error -> SmtpSession.hookFailure(error) == null ? CompletableFuture.failedFuture(error)
                        // RFC 4954: a temporary failure of the check itself is 454, not a wrong password
                        : session.reply(Responses.authFailedTemporarily(mechanism, user, "")));
    }

    /**
     * A failed attempt is answered late, later with each failure in the session, and counted against the
     * client network's budget; the delay holds no thread, and the session reads nothing meanwhile. The delay
     * counts from when the plugins were asked, so an unknown user (answered at once) and a wrong password
     * (answered after hashing) take the same time.
     */
    private CompletableFuture<Void> failed(String mechanism, String user, long checkStarted) {
        failures++;
        session.countError();
        boolean lastAllowed = budget.failed(session.state().remoteAddress().getAddress());
        long elapsedMillis = (System.nanoTime() - checkStarted) / 1_000_000;
        long delayMillis = Math.max(0, session.settings().auth().delayAfter(failures).toMillis() - elapsedMillis);
        CompletableFuture<Void> delayed = delayMillis == 0 ? completedFuture(null)
                : CompletableFuture.runAsync(() -> { },
                        CompletableFuture.delayedExecutor(delayMillis, TimeUnit.MILLISECONDS, session.transport().executor()));
        return delayed.thenCompose(v -> {
            if (session.phase() == Phase.CLOSED) {
                return completedFuture(null);
            }
            session.send(Responses.authFailed(mechanism, user));
            return lastAllowed ? budgetUsedUp() : completedFuture(null);
        });
    }

    private CompletableFuture<Void> budgetUsedUp() {
        session.log(LogLevel.WARN, "too many failed AUTH attempts from {}, closing", session.state().remoteIp());
        return session.respond(Responses.tooManyAuthFailures(session.settings().me()));
    }
}
