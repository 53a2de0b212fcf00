package org.postern.mailauth.dkim;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A tag=value list (RFC 6376 3.2), as DKIM-Signature fields and key records are written, parsed strictly: a tag
 * name is a letter then letters, digits or {@code _}; a value has only VALCHARs and folding white space; a tag
 * given twice, a part without {@code =}, or an empty part (other than after a final {@code ;}) makes the whole list
 * invalid. Values keep their inner white space; their ends are trimmed.
 */
public final class TagList {
    private static final Pattern TAG_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]*");
    private static final Pattern WHITE_SPACE = Pattern.compile("[ \t\r\n]+");

    private final Map<String, String> tags;

    private TagList(Map<String, String> tags) {
        this.tags = Collections.unmodifiableMap(tags);
    }

    public static TagList parse(String text) throws DkimException {
        Map<String, String> tags = new LinkedHashMap<>();
        String[] specs = text.split(";", -1);
        for (int i = 0; i < specs.length; i++) {
            String spec = specs[i];
            if (i == specs.length - 1 && i > 0 && isWhiteSpace(spec)) {
                break;
            }
            int equals = spec.indexOf('=');
            if (equals < 0) {
                throw DkimException.invalid("tag without value: '" + spec.strip() + "'");
            }
            String name = trim(spec.substring(0, equals));
            String value = trim(spec.substring(equals + 1));
            if (!TAG_NAME.matcher(name).matches()) {
                throw DkimException.invalid("bad tag name: '" + name + "'");
            }
            checkValue(name, value);
            if (tags.putIfAbsent(name, value) != null) {
                throw DkimException.invalid("duplicate tag " + name);
            }
        }
        return new TagList(tags);
    }

    private static void checkValue(String name, String value) throws DkimException {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            boolean valChar = c >= 0x21 && c <= 0x7E && c != ';';
            boolean foldingWhiteSpace = c == ' ' || c == '\t'
                    || c == '\r' && i + 2 < value.length() && value.charAt(i + 1) == '\n'
                    || c == '\n' && i > 0 && value.charAt(i - 1) == '\r' && (value.charAt(i + 1) == ' ' || value.charAt(i + 1) == '\t');
            if (!valChar && !foldingWhiteSpace) {
                throw DkimException.invalid("bad character in the value of tag " + name);
            }
        }
    }

    private static boolean isWhiteSpace(String text) {
        return text.isEmpty() || WHITE_SPACE.matcher(text).matches();
    }

    private static String trim(String text) {
        int start = 0;
        int end = text.length();
        while (start < end && " \t\r\n".indexOf(text.charAt(start)) >= 0) {
            start++;
        }
        while (end > start && " \t\r\n".indexOf(text.charAt(end - 1)) >= 0) {
            end--;
        }
        return text.substring(start, end);
    }

    /** The value of a tag, as written (inner white space kept). */
    public Optional<String> get(String tag) {
        return Optional.ofNullable(tags.get(tag));
    }

    /** The value of a tag without any white space, as base64 and colon lists are read. */
    public Optional<String> compact(String tag) {
        return get(tag).map(value -> WHITE_SPACE.matcher(value).replaceAll(""));
    }

    /** The value of a tag the caller cannot do without. */
    public String require(String tag) throws DkimException {
        return get(tag).orElseThrow(() -> DkimException.invalid("missing " + tag + " tag"));
    }

    /** The tags in the order written. */
    public Map<String, String> tags() {
        return tags;
    }
}
