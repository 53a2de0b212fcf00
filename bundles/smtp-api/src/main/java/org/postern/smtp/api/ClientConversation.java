package org.postern.smtp.api;

import java.util.List;
import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The client's end of the connection, for a plugin that holds an exchange of its own, as qpsmtpd's
 * {@code respond} and {@code getline} allow: a command the core does not know (at {@code unrecognized_command}),
 * a challenge and its answer, lines the plugin reads itself.
 *
 * <p>It serves the command being answered: use it while the hook call runs, or before the call's
 * {@link HookResult#later later} answer completes. Once the plugin has sent a final reply (any code but 3xx),
 * that reply is the command's: the core sends none of its own for the command, whatever the plugin answers.
 * A plugin that waits for the client's lines needs a {@code postern.hook.timeout} long enough for them;
 * a client silent for the server's command timeout is disconnected. The stages complete on a hook thread,
 * never on the connection's, so a plugin may go on with blocking work there.
 *
 * @since 1.2
 */
@ProviderType
public interface ClientConversation {
    /**
     * Sends a reply now, ahead of the command's own. The stage fails with {@link IllegalStateException} when
     * the session awaits no answer from plugins (it is receiving a message, or it ended), and with
     * {@link IllegalArgumentException} for a code outside 200..599 or no lines.
     */
    CompletionStage<Void> respond(int code, List<String> lines);

    /** As {@link #respond(int, List)}. */
    default CompletionStage<Void> respond(int code, String... lines) {
        return respond(code, List.of(lines));
    }

    /**
     * The client's next line, without its line ending, decoded as UTF-8. Fails as {@link #respond} does, and
     * when the connection closes first or the line is longer than the server's line limit.
     */
    CompletionStage<String> readLine();
}
