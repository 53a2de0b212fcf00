package org.postern.smtp.core.internal.protocol;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.api.MessageHeader;

/** The header as received, kept field by field so that untouched fields are written back byte for byte. */
public final class ParsedHeader implements MessageHeader {
    private final List<HeaderField> fields = new CopyOnWriteArrayList<>();

    /**
     * Parses header lines (without their CRLF): each starts a field ({@link #isFieldStart}) or, starting with
     * white space, continues the previous one. The caller routes any other line to the body.
     */
    public static ParsedHeader parse(List<String> lines) {
        ParsedHeader header = new ParsedHeader();
        String name = null;
        StringBuilder value = new StringBuilder();
        for (String line : lines) {
            if (!line.isEmpty() && (line.charAt(0) == ' ' || line.charAt(0) == '\t') && name != null) {
                value.append("\r\n").append(line);
                continue;
            }
            if (name != null) {
                header.fields.add(new HeaderField(name, value.toString()));
            }
            int colon = line.indexOf(':');
            name = line.substring(0, colon).stripTrailing();
            value.setLength(0);
            value.append(line, colon + 1, line.length());
        }
        if (name != null) {
            header.fields.add(new HeaderField(name, value.toString()));
        }
        return header;
    }

    /** True when the line can start a header field: a field name, then a colon. */
    public static boolean isFieldStart(String line) {
        int colon = line.indexOf(':');
        if (colon <= 0) {
            return false;
        }
        for (int i = 0; i < colon; i++) {
            char c = line.charAt(i);
            if (c <= 32 || c >= 127) {
                return i > 0 && line.substring(i, colon).isBlank();
            }
        }
        return true;
    }

    @Override
    public List<HeaderField> fields() {
        return List.copyOf(fields);
    }

    @Override
    public List<String> get(String name) {
        List<String> values = new ArrayList<>();
        for (HeaderField field : fields) {
            if (field.name().equalsIgnoreCase(name)) {
                values.add(field.unfoldedValue());
            }
        }
        return values;
    }

    @Override
    public void add(String name, String value) {
        fields.add(new HeaderField(name, " " + value));
    }

    @Override
    public void prepend(String name, String value) {
        fields.add(0, new HeaderField(name, " " + value));
    }

    /** Prepends a field and returns it, for {@link #replace} to find later. */
    HeaderField prependField(String name, String value) {
        HeaderField field = new HeaderField(name, " " + value);
        fields.add(0, field);
        return field;
    }

    /** Puts the replacement where this very field (not one equal to it) stands; nothing when it is gone. */
    void replace(HeaderField field, HeaderField replacement) {
        for (int i = 0; i < fields.size(); i++) {
            if (fields.get(i) == field) {
                fields.set(i, replacement);
                return;
            }
        }
    }

    @Override
    public void set(String name, String value) {
        remove(name);
        add(name, value);
    }

    @Override
    public int remove(String name) {
        int before = fields.size();
        fields.removeIf(field -> field.name().equalsIgnoreCase(name));
        return before - fields.size();
    }

    /** The header in wire form, each field ending in CRLF; without the blank line that ends it. */
    public byte[] encode() {
        StringBuilder text = new StringBuilder();
        for (HeaderField field : fields) {
            text.append(field.name()).append(':').append(field.value().replaceAll("\r?\n(?![ \t])", "\r\n ")).append("\r\n");
        }
        return text.toString().getBytes(StandardCharsets.ISO_8859_1);
    }
}
