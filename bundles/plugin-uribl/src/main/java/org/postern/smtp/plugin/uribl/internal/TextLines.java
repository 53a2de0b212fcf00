package org.postern.smtp.plugin.uribl.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.Predicate;

/**
 * Splits decoded text into lines of bounded length, so that a part without line breaks (HTML often has none)
 * is scanned in pieces instead of being held whole. An overlong line is cut after its last white space or tag
 * bracket, where no URL or host name can be, and only where there is none after a hard limit.
 */
final class TextLines {
    static final int MAX_LINE = 8192;

    private TextLines() {
    }

    /**
     * Hands each line, without its line break, to {@code line} until it answers false. Bytes are taken as
     * ISO-8859-1: names and URLs are ASCII, and no byte can make decoding fail.
     *
     * @return false when {@code line} stopped the reading
     */
    static boolean forEach(InputStream text, Predicate<String> line) throws IOException {
        StringBuilder current = new StringBuilder(256);
        byte[] buffer = new byte[8192];
        for (int read = text.read(buffer); read >= 0; read = text.read(buffer)) {
            for (int i = 0; i < read; i++) {
                char c = (char) (buffer[i] & 0xff);
                if (c == '\n') {
                    if (!line.test(withoutCarriageReturn(current))) {
                        return false;
                    }
                    current.setLength(0);
                } else {
                    current.append(c);
                    if (current.length() == MAX_LINE && !line.test(cutAtBreak(current))) {
                        return false;
                    }
                }
            }
        }
        return current.isEmpty() || line.test(withoutCarriageReturn(current));
    }

    private static String withoutCarriageReturn(StringBuilder line) {
        int end = line.length();
        return line.substring(0, end > 0 && line.charAt(end - 1) == '\r' ? end - 1 : end);
    }

    /** Takes the head of an overlong line up to its last break, keeping the rest to be continued. */
    private static String cutAtBreak(StringBuilder line) {
        int cut = line.length();
        for (int i = line.length() - 1; i >= MAX_LINE / 2; i--) {
            char c = line.charAt(i);
            if (Character.isWhitespace(c) || c == '<' || c == '>' || c == '"' || c == '\'') {
                cut = i + 1;
                break;
            }
        }
        String head = line.substring(0, cut);
        line.delete(0, cut);
        return head;
    }
}
