package org.postern.smtp.api;

import java.util.Objects;

/**
 * One header field as received: its name and its raw value (everything after the colon, folded lines
 * kept with their CRLF and leading white space, so that signatures over the header stay valid).
 */
public record HeaderField(String name, String value) {
    public HeaderField {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        if (name.isEmpty() || !name.chars().allMatch(c -> c > 32 && c < 127 && c != ':')) {
            throw new IllegalArgumentException("not a header field name: " + name);
        }
    }

    /** The value without leading white space and with folding undone. */
    public String unfoldedValue() {
        return value.replaceAll("\r?\n(?=[ \t])", "").strip();
    }
}
