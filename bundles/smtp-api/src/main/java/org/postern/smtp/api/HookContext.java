package org.postern.smtp.api;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/** What every hook sees: the session, the current transaction, config lookup and logging. */
@ProviderType
public interface HookContext {
    Session session();

    /** The current transaction; outside MAIL..DATA an empty one. */
    Transaction transaction();

    /**
     * A config item as a list of values (qpsmtpd's {@code $self->qp->config($name)}): asked of the
     * {@code config} hook plugins in order, then of the configuration PID {@code org.postern.smtp.config},
     * then of built-in defaults. Empty when nobody knows the item.
     */
    List<String> config(String item);

    /** The first value of a config item, or {@code fallback}. */
    default String config(String item, String fallback) {
        List<String> values = config(item);
        return values.isEmpty() ? fallback : values.get(0);
    }

    /**
     * A per-user config item (qpsmtpd's {@code $rcpt->config($name)}): asked of the {@code user_config} hook
     * plugins in order; empty when none knows it.
     */
    List<String> userConfig(Address user, String item);

    /** Logs through the {@code logging} hook chain, then the server log, tagged with session, plugin and hook. */
    void log(LogLevel level, String message);

    /**
     * Asks to make this plugin's work permanent, for a plugin about to do what cannot be undone (a queue
     * plugin moving the message into place). {@code true}: the core waits for this call's answer from now on,
     * even past its timeout. {@code false}: the core no longer waits (the call timed out, or the client left
     * before it got an answer), so the client has been or will be told the message was not taken: undo what was
     * prepared and return. Plugins that commit nothing need not call it.
     *
     * @since 1.1
     */
    boolean commit();

    /**
     * The client, for a plugin that replies on its own or reads the client's next lines (qpsmtpd's
     * {@code respond} and {@code getline}).
     *
     * @since 1.2
     */
    ClientConversation client();
}
