package org.postern.smtp.plugin.uribl.internal;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the names to look up in the lines of a message's text, as qpsmtpd's uribl does: URLs whose host is an
 * IPv4 address (dotted, octal, hex or one integer) give the reversed address; every host name ending in a known
 * top-level domain, with or without a scheme in front, gives its registered domain and each sub-host of it. Each
 * distinct name is handed on once, until {@code max} names were found.
 */
final class UriNames {
    /** ccTLDs that register names only at the third level (example.co.uk): qpsmtpd's list. */
    private static final Set<String> STRICT_TWO_LEVEL_CCTLDS = Set.of("ac", "ae", "uk", "ai", "ar", "at", "au", "az",
            "bb", "bh", "bm", "br", "bs", "ca", "ck", "cn", "co", "cr", "cu", "cy", "do", "et", "ge", "hk", "id", "il", "jp",
            "kr", "kw", "lv", "sg", "za");
    private static final String TOP_LEVEL_DOMAIN = "(?:aero|arpa|asia|biz|cat|com|coop|edu|gov|info|int|jobs|mil|mobi"
            + "|museum|name|net|org|pro|tel|travel|[a-z]{2})";
    /** A scheme and optional user information; bounded, so a line of junk cannot make matching quadratic. */
    private static final String SCHEME = "\\w{3,16}:/+(?:[^\\s/@]{1,256}@)?";
    private static final String OCTET = "(\\d{1,10}|0[xX][0-9A-Fa-f]{1,8})";
    private static final Pattern INTEGER_ADDRESS = Pattern.compile(SCHEME + "(\\d{7,10})(?::\\d*)?(?=[/?\\s]|$)");
    private static final Pattern DOTTED_ADDRESS = Pattern.compile(SCHEME + OCTET + "\\." + OCTET + "\\." + OCTET + "\\." + OCTET);
    private static final Pattern HOST = Pattern.compile("[a-z0-9][a-z0-9.-]+\\." + TOP_LEVEL_DOMAIN + "(?!\\w)",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern ESCAPE = Pattern.compile("[=%]([0-9A-Fa-f]{2})");
    private static final Pattern ENTITY = Pattern.compile("&#(\\d{2,3});?");
    /** Longer runs of quoted-printable continuations are scanned as they are rather than joined further. */
    private static final int MAX_JOINED = 64 * 1024;

    private final Set<String> whitelist;
    private final int max;
    private final Consumer<String> found;
    private final Set<String> seen = new HashSet<>();
    private final StringBuilder continued = new StringBuilder();
    private boolean full;

    /**
     * @param whitelist registered domains never looked up ({@code uribl_whitelist_domains})
     * @param max how many names to find at most
     * @param found gets each new name
     */
    UriNames(Set<String> whitelist, int max, Consumer<String> found) {
        this.whitelist = whitelist;
        this.max = max;
        this.found = found;
    }

    /** Scans one line (without its line break); false once a name beyond {@code max} turned up. */
    boolean scan(String line) {
        if (line.endsWith("=") && continued.length() < MAX_JOINED) {
            continued.append(line, 0, line.length() - 1);
            return true;
        }
        String text = line;
        if (!continued.isEmpty()) {
            text = continued.append(line).toString();
            continued.setLength(0);
        }
        text = unmunged(text);
        addAddresses(text);
        addHosts(text);
        return !full;
    }

    /** Scans what is left of an unfinished quoted-printable continuation at the end of the text. */
    boolean finish() {
        return continued.isEmpty() || scan("");
    }

    /** True once a name beyond {@code max} turned up and was not looked up. */
    boolean full() {
        return full;
    }

    /** Undoes the disguises of spam: URL and quoted-printable escapes, numeric HTML entities, inserted semicolons. */
    private static String unmunged(String text) {
        String unescaped = ESCAPE.matcher(text).replaceAll(hex -> Matcher.quoteReplacement(
                Character.toString(Integer.parseInt(hex.group(1), 16))));
        String unentitied = ENTITY.matcher(unescaped).replaceAll(entity -> Matcher.quoteReplacement(
                Character.toString(Integer.parseInt(entity.group(1)))));
        return unentitied.replace(";", "");
    }

    private void addAddresses(String text) {
        Matcher integer = INTEGER_ADDRESS.matcher(text);
        while (integer.find()) {
            long value = Long.parseLong(integer.group(1));
            if (value <= 0xffffffffL) {
                addReversed(new long[] {value >> 24 & 0xff, value >> 16 & 0xff, value >> 8 & 0xff, value & 0xff});
            }
        }
        Matcher dotted = DOTTED_ADDRESS.matcher(text);
        while (dotted.find()) {
            long[] octets = new long[4];
            for (int i = 0; i < 4; i++) {
                octets[i] = octet(dotted.group(i + 1));
            }
            if (Arrays.stream(octets).allMatch(octet -> octet <= 255)) {
                addReversed(octets);
            }
        }
    }

    /** An octet as browsers read it: {@code 0x7f} is hex, {@code 0177} octal, others decimal. */
    private static long octet(String text) {
        if (text.startsWith("0x") || text.startsWith("0X")) {
            return Long.parseLong(text.substring(2), 16);
        }
        if (text.matches("0[0-7]+")) {
            return Long.parseLong(text, 8);
        }
        return Long.parseLong(text);
    }

    private void addReversed(long[] octets) {
        add(octets[3] + "." + octets[2] + "." + octets[1] + "." + octets[0]);
    }

    /**
     * Finds host names run by run: a run of host-name characters holds at most one, starting at its first letter or
     * digit, so each run is matched once from there and the scan stays linear in the line's length.
     */
    private void addHosts(String text) {
        Matcher host = HOST.matcher(text).useTransparentBounds(true);
        int end = 0;
        while (end < text.length()) {
            int start = end;
            while (start < text.length() && !isLetterOrDigit(text.charAt(start))) {
                start++;
            }
            end = start;
            boolean dotted = false;
            while (end < text.length() && isHostCharacter(text.charAt(end))) {
                dotted |= text.charAt(end) == '.';
                end++;
            }
            if (dotted && host.region(start, end).lookingAt()) {
                addHost(host.group().toLowerCase(Locale.ROOT));
            }
        }
    }

    private static boolean isHostCharacter(char c) {
        return isLetterOrDigit(c) || c == '.' || c == '-';
    }

    private static boolean isLetterOrDigit(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
    }

    /**
     * qpsmtpd's reduction: the registered domain is the last two labels, three under a ccTLD of
     * {@link #STRICT_TWO_LEVEL_CCTLDS}; it and every longer sub-host are looked up, the registered domain first so
     * that {@code max} cuts the deepest sub-hosts. Names DNS cannot ask (empty or overlong labels) are left out.
     */
    private void addHost(String host) {
        String[] labels = host.split("\\.", -1);
        int cutoff = STRICT_TWO_LEVEL_CCTLDS.contains(labels[labels.length - 1]) ? 3 : 2;
        if (labels.length < cutoff || whitelist.contains(suffix(labels, cutoff))) {
            return;
        }
        for (int count = cutoff; count <= labels.length; count++) {
            String label = labels[labels.length - count];
            String name = suffix(labels, count);
            if (label.isEmpty() || label.length() > 63 || name.length() > 253) {
                return;
            }
            add(name);
        }
    }

    private static String suffix(String[] labels, int count) {
        return String.join(".", Arrays.asList(labels).subList(labels.length - count, labels.length));
    }

    private void add(String name) {
        if (full || seen.contains(name)) {
            return;
        }
        if (seen.size() >= max) {
            full = true;
            return;
        }
        seen.add(name);
        found.accept(name);
    }
}
