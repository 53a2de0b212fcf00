package org.postern.smtp.testkit;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.postern.smtp.api.ClientConversation;

/**
 * A scripted client for plugins that talk to it: the lines it will send, from {@link #willSend(String...)},
 * and the replies the plugin sent, in {@link #replies()} as {@code "code text"} per line. A read with no
 * line left fails, as when the client hangs up.
 */
public class TestClient implements ClientConversation {
    private final ArrayDeque<String> lines = new ArrayDeque<>();
    private final List<String> replies = new ArrayList<>();

    /** Queues lines the client sends when the plugin reads. */
    public TestClient willSend(String... next) {
        lines.addAll(List.of(next));
        return this;
    }

    /** The replies sent so far, one entry per line, as {@code "334 who are you?"}. */
    public List<String> replies() {
        return replies;
    }

    @Override
    public CompletionStage<Void> respond(int code, List<String> text) {
        if (code < 200 || code > 599 || text.isEmpty()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("not a reply: " + code + " " + text));
        }
        text.forEach(line -> replies.add(code + " " + line));
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<String> readLine() {
        String line = lines.poll();
        return line != null ? CompletableFuture.completedFuture(line)
                : CompletableFuture.failedFuture(new java.nio.channels.ClosedChannelException());
    }
}
