package org.postern.smtp.testkit;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.Notes;

/** Notes kept in a map. */
public final class TestNotes implements Notes {
    private final Map<NoteKey<?>, Object> values = new ConcurrentHashMap<>();

    @Override
    public <T> Optional<T> get(NoteKey<T> key) {
        return Optional.ofNullable(values.get(key)).map(key.type()::cast);
    }

    @Override
    public <T> void put(NoteKey<T> key, T value) {
        values.put(key, value);
    }

    @Override
    public void remove(NoteKey<?> key) {
        values.remove(key);
    }
}
