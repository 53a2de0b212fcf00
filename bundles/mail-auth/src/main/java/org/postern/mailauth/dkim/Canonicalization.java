package org.postern.mailauth.dkim;

import java.util.Locale;
import java.util.regex.Pattern;
import org.postern.smtp.api.HeaderField;

/** The two canonicalization algorithms of RFC 6376 3.4, for header fields here and for the body in {@link BodyHasher}. */
public enum Canonicalization {
    SIMPLE, RELAXED;

    private static final Pattern LINE_BREAK = Pattern.compile("\r\n");
    private static final Pattern WHITE_SPACE_RUN = Pattern.compile("[ \t]+");
    private static final Pattern WHITE_SPACE_ENDS = Pattern.compile("^[ \t]+|[ \t]+$");

    /** The name used in the {@code c=} tag. */
    public String keyword() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Canonicalization of(String keyword) throws DkimException {
        return switch (keyword) {
            case "simple" -> SIMPLE;
            case "relaxed" -> RELAXED;
            default -> throw DkimException.invalid("unsupported canonicalization");
        };
    }

    /** A header field in canonical form, its CRLF included (RFC 6376 3.4.1, 3.4.2). */
    public String header(HeaderField field) {
        return header(field.name(), field.value()) + "\r\n";
    }

    /** A header field in canonical form without its final CRLF, as the signature's own field is hashed; public since 1.1. */
    public String header(String name, String rawValue) {
        if (this == SIMPLE) {
            return name + ":" + rawValue;
        }
        String unfolded = LINE_BREAK.matcher(rawValue).replaceAll("");
        String value = WHITE_SPACE_ENDS.matcher(WHITE_SPACE_RUN.matcher(unfolded).replaceAll(" ")).replaceAll("");
        return name.strip().toLowerCase(Locale.ROOT) + ":" + value;
    }
}
