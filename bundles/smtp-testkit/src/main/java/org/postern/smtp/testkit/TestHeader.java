package org.postern.smtp.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.api.MessageHeader;

/** A message header for unit tests, parsed from the header section a test gives {@link TestTransaction#message}. */
final class TestHeader implements MessageHeader {
    private final List<HeaderField> fields = new ArrayList<>();

    /** Parses "Name: value" lines with CRLF endings; a line starting with white space continues the field before. */
    static TestHeader parse(String section) {
        TestHeader header = new TestHeader();
        for (String line : section.split("\r\n")) {
            if (line.isEmpty()) {
                continue;
            }
            if ((line.startsWith(" ") || line.startsWith("\t")) && !header.fields.isEmpty()) {
                HeaderField last = header.fields.remove(header.fields.size() - 1);
                header.fields.add(new HeaderField(last.name(), last.value() + "\r\n" + line));
                continue;
            }
            int colon = line.indexOf(':');
            if (colon > 0) {
                header.fields.add(new HeaderField(line.substring(0, colon), line.substring(colon + 1)));
            }
        }
        return header;
    }

    @Override
    public List<HeaderField> fields() {
        return List.copyOf(fields);
    }

    @Override
    public List<String> get(String name) {
        return fields.stream().filter(field -> same(field.name(), name)).map(HeaderField::unfoldedValue).toList();
    }

    @Override
    public void add(String name, String value) {
        fields.add(new HeaderField(name, " " + value));
    }

    @Override
    public void prepend(String name, String value) {
        fields.add(0, new HeaderField(name, " " + value));
    }

    @Override
    public void set(String name, String value) {
        remove(name);
        add(name, value);
    }

    @Override
    public int remove(String name) {
        int before = fields.size();
        fields.removeIf(field -> same(field.name(), name));
        return before - fields.size();
    }

    private static boolean same(String one, String other) {
        return one.toLowerCase(Locale.ROOT).equals(other.toLowerCase(Locale.ROOT));
    }
}
