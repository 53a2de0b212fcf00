package org.postern.smtp.plugin.spamassassin.internal;

/**
 * Folds the header fields this plugin writes (RFC 5322 2.1.1, 2.2.3): a line that would pass 78 characters is broken
 * before white space or after a comma (SpamAssassin's test lists have no spaces), with a tab to start the next line,
 * and no line passes 998 characters whatever the value, by a break inside a word if there is no other. Lines that
 * are short enough keep their folding, so SpamAssassin's own layout stays as it made it.
 */
final class HeaderFolding {
    static final int RECOMMENDED = 78;
    static final int LIMIT = 998;

    private HeaderFolding() {
    }

    /** The value to write after {@code name + ": "}, folded; its own line breaks must be CRLF followed by white space. */
    static String fold(String name, String value) {
        StringBuilder folded = new StringBuilder();
        String[] lines = value.split("\r\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (i > 0) {
                folded.append("\r\n");
            }
            foldLine(lines[i], i == 0 ? name.length() + 2 : 0, folded);
        }
        return folded.toString();
    }

    /** Appends one line, broken where it would be longer than RECOMMENDED; {@code used}: characters before it on its line. */
    private static void foldLine(String line, int used, StringBuilder folded) {
        int start = 0;
        while (used + line.length() - start > RECOMMENDED) {
            int cut = lastBreak(line, start, start + RECOMMENDED - used);
            if (cut < 0) {
                // a word longer than a recommended line: it gets a line of its own
                cut = nextBreak(line, Math.max(start + RECOMMENDED - used, start + 2));
            }
            if (cut < 0 || used + cut - start > LIMIT) {
                if (used + line.length() - start <= LIMIT) {
                    break;
                }
                cut = start + LIMIT - used;
            }
            folded.append(line, start, cut).append("\r\n");
            // a break before white space leaves it to start the next line; any other break needs some
            if (whiteSpace(line.charAt(cut))) {
                used = 0;
            } else {
                folded.append('\t');
                used = 1;
            }
            start = cut;
        }
        folded.append(line, start, line.length());
    }

    /** The last place at or before {@code limit} to break at (the next line starts there), after {@code start}; -1 if none. */
    private static int lastBreak(String line, int start, int limit) {
        for (int i = Math.min(limit, line.length() - 1); i > start + 1; i--) {
            if (breakable(line, i)) {
                return i;
            }
        }
        return -1;
    }

    private static int nextBreak(String line, int from) {
        for (int i = from; i < line.length(); i++) {
            if (breakable(line, i)) {
                return i;
            }
        }
        return -1;
    }

    /** Before white space that follows something other than white space, or after a comma that white space does not follow. */
    private static boolean breakable(String line, int i) {
        char before = line.charAt(i - 1);
        char at = line.charAt(i);
        return whiteSpace(at) && !whiteSpace(before) || before == ',' && !whiteSpace(at);
    }

    private static boolean whiteSpace(char c) {
        return c == ' ' || c == '\t';
    }
}
