package org.postern.smtp.api.store;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ProviderType;

/**
 * String keys with string values or counters, each living for a time to live. Every call answers with a stage,
 * so a store that talks to a server (Redis) holds no hook thread: a plugin returns
 * {@code HookResult.later(store.get(key).thenApply(...))}. A stage fails when the store cannot answer (its
 * server is down, its file cannot be written); plugins decide what a failure means for the client, as they do
 * for DNS failures. Keys are namespaced by the plugin that writes them ({@code greylisting:...}).
 */
@ProviderType
public interface StateStore {
    /** The key's value; empty when the key is missing or its time to live is over. */
    CompletionStage<Optional<String>> get(String key);

    /** Sets the key's value, to live for {@code ttl} from now (a positive duration). */
    CompletionStage<Void> put(String key, String value, Duration ttl);

    /**
     * Adds {@code delta} to the key's number (a missing or expired key counts 0) and answers the sum; the key then
     * lives for {@code ttl} from now. One step, even with several nodes adding at once.
     */
    CompletionStage<Long> add(String key, long delta, Duration ttl);

    /** Removes the key; answers whether it was there (and alive). */
    CompletionStage<Boolean> remove(String key);
}
