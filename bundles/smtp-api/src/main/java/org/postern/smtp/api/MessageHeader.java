package org.postern.smtp.api;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/** The parsed, editable header of the message in a transaction. Names compare case-insensitively. */
@ProviderType
public interface MessageHeader {
    /** All fields in order. */
    List<HeaderField> fields();

    /** The unfolded values of every field with this name, in order. */
    List<String> get(String name);

    /** Appends a field at the end of the header. */
    void add(String name, String value);

    /** Inserts a field at the top of the header, where trace fields (Received) belong. */
    void prepend(String name, String value);

    /** Removes every field with this name and appends one with the given value. */
    void set(String name, String value);

    /** Removes every field with this name; returns how many were removed. */
    int remove(String name);
}
