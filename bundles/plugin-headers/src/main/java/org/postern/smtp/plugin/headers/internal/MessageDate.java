package org.postern.smtp.plugin.headers.internal;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a Date header value: RFC 5322's date-time with its obsolete forms (two- and three-digit years, zone
 * names such as EST, comments), which is what mailers write. Anything else is not a date here.
 */
final class MessageDate {
    private static final Pattern COMMENT = Pattern.compile("\\([^()]*\\)");
    private static final Pattern DATE_TIME = Pattern.compile("(?:[a-z]{3}\\s*,)?\\s*(\\d{1,2})\\s+([a-z]{3})\\s+(\\d{2,4})"
            + "\\s+(\\d{1,2}):(\\d{2})(?::(\\d{2}))?\\s*([+-]\\d{4}|[a-z]+)?", Pattern.CASE_INSENSITIVE);
    private static final List<String> MONTHS =
            List.of("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec");
    private static final Map<String, Integer> US_ZONE_HOURS =
            Map.of("EDT", -4, "EST", -5, "CDT", -5, "CST", -6, "MDT", -6, "MST", -7, "PDT", -7, "PST", -8);

    private MessageDate() {
    }

    static Optional<Instant> parse(String value) {
        String text = value;
        for (String previous = null; !text.equals(previous); ) {
            previous = text;
            text = COMMENT.matcher(text).replaceAll(" ");
        }
        Matcher date = DATE_TIME.matcher(text.strip());
        if (!date.matches()) {
            return Optional.empty();
        }
        int month = MONTHS.indexOf(date.group(2).toLowerCase(Locale.ROOT)) + 1;
        try {
            LocalDateTime local = LocalDateTime.of(year(date.group(3)), month, Integer.parseInt(date.group(1)),
                    Integer.parseInt(date.group(4)), Integer.parseInt(date.group(5)),
                    date.group(6) == null ? 0 : Integer.parseInt(date.group(6)));
            return Optional.of(local.toInstant(offset(date.group(7))));
        } catch (DateTimeException notADate) {
            return Optional.empty();
        }
    }

    /** RFC 5322 4.3: two digits below 50 are 20xx, the others 19xx; three digits count from 1900. */
    private static int year(String digits) {
        int year = Integer.parseInt(digits);
        return switch (digits.length()) {
            case 2 -> year < 50 ? 2000 + year : 1900 + year;
            case 3 -> 1900 + year;
            default -> year;
        };
    }

    /** A missing zone, UT, GMT and the military letters are UTC (RFC 5322 4.3 says to read the letters as -0000). */
    private static ZoneOffset offset(String zone) {
        if (zone == null || !(zone.startsWith("+") || zone.startsWith("-"))) {
            return ZoneOffset.ofHours(zone == null ? 0 : US_ZONE_HOURS.getOrDefault(zone.toUpperCase(Locale.ROOT), 0));
        }
        int sign = zone.startsWith("-") ? -1 : 1;
        return ZoneOffset.ofHoursMinutes(sign * Integer.parseInt(zone.substring(1, 3)), sign * Integer.parseInt(zone.substring(3)));
    }
}
