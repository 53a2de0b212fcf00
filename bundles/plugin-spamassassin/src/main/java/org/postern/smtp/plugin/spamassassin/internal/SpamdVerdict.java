package org.postern.smtp.plugin.spamassassin.internal;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * spamd's answer to a SYMBOLS request (the SPAMC/SPAMD protocol):
 * {@code SPAMD/1.1 0 EX_OK}, a {@code Spam: True ; 6.2 / 5.0} header, a blank line, then the rule names.
 */
record SpamdVerdict(boolean spam, double score, double required, List<String> rules) {
    private static final Pattern STATUS = Pattern.compile("^SPAMD/\\d+\\.\\d+ (\\d+) (\\S+)");
    private static final Pattern SPAM = Pattern.compile("^Spam: (True|False|Yes|No) ; (-?[\\d.]+) / (-?[\\d.]+)", Pattern.CASE_INSENSITIVE);

    /** Parses a whole response; throws IllegalArgumentException when it is not a successful answer. */
    static SpamdVerdict parse(String response) {
        String[] parts = response.split("\r\n\r\n", 2);
        String[] lines = parts[0].split("\r\n");
        Matcher status = STATUS.matcher(lines[0]);
        if (!status.find() || !status.group(1).equals("0")) {
            throw new IllegalArgumentException("spamd answered: " + lines[0]);
        }
        for (String line : lines) {
            Matcher spam = SPAM.matcher(line);
            if (spam.find()) {
                String flag = spam.group(1).toLowerCase(Locale.ROOT);
                List<String> rules = parts.length < 2 || parts[1].isBlank() ? List.of()
                        : List.of(parts[1].strip().split("\\s*,\\s*"));
                return new SpamdVerdict(flag.equals("true") || flag.equals("yes"), Double.parseDouble(spam.group(2)),
                        Double.parseDouble(spam.group(3)), rules);
            }
        }
        throw new IllegalArgumentException("spamd sent no Spam header: " + lines[0]);
    }

    /** The X-Spam-Status value, as SpamAssassin writes it. */
    String status() {
        return String.format(Locale.ROOT, "%s, score=%.1f required=%.1f tests=%s", spam ? "Yes" : "No", score, required,
                String.join(",", rules));
    }
}
