package org.postern.smtp.api;

import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/** Typed, thread-safe notes that plugins attach to a session or a transaction. */
@ProviderType
public interface Notes {
    <T> Optional<T> get(NoteKey<T> key);

    <T> void put(NoteKey<T> key, T value);

    void remove(NoteKey<?> key);

    /**
     * Independent notes holding the same values now.
     *
     * @since 1.2
     */
    Notes copy();

    /** Empty notes that may be read and written from several threads. */
    static Notes create() {
        return new ConcurrentNotes();
    }
}
