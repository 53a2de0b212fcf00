package org.postern.smtp.api;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Notes in a concurrent map, safe to share between the connection's thread and hook threads. */
final class ConcurrentNotes implements Notes {
    private final Map<NoteKey<?>, Object> values = new ConcurrentHashMap<>();

    @Override
    public <T> Optional<T> get(NoteKey<T> key) {
        return Optional.ofNullable(values.get(key)).map(key.type()::cast);
    }

    @Override
    public <T> void put(NoteKey<T> key, T value) {
        values.put(key, key.type().cast(value));
    }

    @Override
    public void remove(NoteKey<?> key) {
        values.remove(key);
    }

    @Override
    public Notes copy() {
        ConcurrentNotes copy = new ConcurrentNotes();
        copy.values.putAll(values);
        return copy;
    }
}
