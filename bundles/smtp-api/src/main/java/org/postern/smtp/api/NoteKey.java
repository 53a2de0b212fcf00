package org.postern.smtp.api;

import java.util.Objects;

/**
 * A typed key for session and transaction notes, so plugins share data without casts or string typos.
 * Keys are equal when name and type are equal; give each a name scoped to its plugin, e.g.
 * {@code NoteKey.of("earlytalker.seen", Boolean.class)}.
 */
public final class NoteKey<T> {
    private final String name;
    private final Class<T> type;

    private NoteKey(String name, Class<T> type) {
        this.name = Objects.requireNonNull(name, "name");
        this.type = Objects.requireNonNull(type, "type");
    }

    public static <T> NoteKey<T> of(String name, Class<T> type) {
        return new NoteKey<>(name, type);
    }

    public String name() {
        return name;
    }

    public Class<T> type() {
        return type;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof NoteKey<?> that && name.equals(that.name) && type.equals(that.type);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + type.hashCode();
    }

    @Override
    public String toString() {
        return name + ":" + type.getSimpleName();
    }
}
