package org.postern.smtp.core.internal.protocol;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.postern.smtp.api.ClientConversation;
import org.postern.smtp.core.internal.dispatch.HookRunner;

/**
 * The client as plugins talk to it (qpsmtpd's {@code respond} and {@code getline}): each call moves to the
 * connection's thread, where the session checks that a command awaits the plugins, and its result moves back
 * to a hook thread, so plugin code never runs on the connection's thread.
 */
final class PluginConversation implements ClientConversation {
    private final SmtpSession session;
    private final HookRunner runner;

    PluginConversation(SmtpSession session, HookRunner runner) {
        this.session = session;
        this.runner = runner;
    }

    @Override
    public CompletionStage<Void> respond(int code, List<String> lines) {
        if (code < 200 || code > 599 || lines.isEmpty()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(
                    "a reply needs a code from 200 to 599 and at least one line, not " + code + " " + lines));
        }
        Reply reply = new Reply(code, null, List.copyOf(lines));
        return onConnection(() -> {
            session.pluginReply(reply);
            return CompletableFuture.completedFuture(null);
        });
    }

    @Override
    public CompletionStage<String> readLine() {
        return onConnection(() -> session.pluginLine().thenApply(line -> {
            if (line.tooLong()) {
                throw new UncheckedIOException(new IOException("the client's line is longer than the server's line limit"));
            }
            return new String(line.bytes(), StandardCharsets.UTF_8);
        }));
    }

    /** Runs the step on the connection's thread once the session lets plugins talk; answers on a hook thread. */
    private <T> CompletionStage<T> onConnection(Supplier<CompletableFuture<T>> step) {
        CompletableFuture<T> answer = new CompletableFuture<>();
        CompletableFuture.supplyAsync(() -> {
            if (!session.awaitsPlugins()) {
                throw new IllegalStateException("no command of session " + session.id() + " awaits a plugin's answer");
            }
            return step.get();
        }, session.transport().executor()).thenCompose(result -> result).whenComplete((value, error) ->
                runner.onPluginThread(() -> {
                    if (error == null) {
                        answer.complete(value);
                    } else {
                        answer.completeExceptionally(error instanceof CompletionException ? error.getCause() : error);
                    }
                }));
        return answer;
    }
}
