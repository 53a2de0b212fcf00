package org.postern.smtp.plugin.logging.file.internal;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.TextStyle;
import java.time.temporal.ChronoField;
import java.time.temporal.IsoFields;
import java.util.Locale;

/**
 * The conversions of C's {@code strftime(3)} in the C locale, which qpsmtpd's {@code logging/file} applies to its
 * file name and time stamps; an unknown conversion is copied as written, as glibc does.
 */
final class Strftime {
    private Strftime() {
    }

    static String format(String pattern, ZonedDateTime time) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c != '%' || i + 1 == pattern.length()) {
                out.append(c);
                continue;
            }
            char conversion = pattern.charAt(++i);
            String converted = convert(conversion, time);
            out.append(converted == null ? "%" + conversion : converted);
        }
        return out.toString();
    }

    private static String convert(char conversion, ZonedDateTime t) {
        return switch (conversion) {
            case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.US);
            case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.US);
            case 'b', 'h' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.US);
            case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.US);
            case 'c' -> format("%a %b %e %H:%M:%S %Y", t);
            case 'C' -> two(t.getYear() / 100);
            case 'd' -> two(t.getDayOfMonth());
            case 'D', 'x' -> format("%m/%d/%y", t);
            case 'e' -> String.format(Locale.ROOT, "%2d", t.getDayOfMonth());
            case 'F' -> format("%Y-%m-%d", t);
            case 'g' -> two(t.get(IsoFields.WEEK_BASED_YEAR) % 100);
            case 'G' -> Integer.toString(t.get(IsoFields.WEEK_BASED_YEAR));
            case 'H' -> two(t.getHour());
            case 'I' -> two(t.get(ChronoField.CLOCK_HOUR_OF_AMPM));
            case 'j' -> String.format(Locale.ROOT, "%03d", t.getDayOfYear());
            case 'k' -> String.format(Locale.ROOT, "%2d", t.getHour());
            case 'l' -> String.format(Locale.ROOT, "%2d", t.get(ChronoField.CLOCK_HOUR_OF_AMPM));
            case 'm' -> two(t.getMonthValue());
            case 'M' -> two(t.getMinute());
            case 'n' -> "\n";
            case 'p' -> t.getHour() < 12 ? "AM" : "PM";
            case 'P' -> t.getHour() < 12 ? "am" : "pm";
            case 'r' -> format("%I:%M:%S %p", t);
            case 'R' -> format("%H:%M", t);
            case 's' -> Long.toString(t.toEpochSecond());
            case 'S' -> two(t.getSecond());
            case 't' -> "\t";
            case 'T', 'X' -> format("%H:%M:%S", t);
            case 'U' -> two((t.getDayOfYear() + 6 - t.getDayOfWeek().getValue() % 7) / 7);
            case 'u' -> Integer.toString(t.getDayOfWeek().getValue());
            case 'V' -> two(t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
            case 'w' -> Integer.toString(t.getDayOfWeek().getValue() % 7);
            case 'W' -> two((t.getDayOfYear() + 6 - (t.getDayOfWeek().getValue() + 6) % 7) / 7);
            case 'y' -> two(t.getYear() % 100);
            case 'Y' -> Integer.toString(t.getYear());
            case 'z' -> t.format(DateTimeFormatter.ofPattern("xx", Locale.ROOT));
            case 'Z' -> t.format(DateTimeFormatter.ofPattern("zzz", Locale.US));
            case '%' -> "%";
            default -> null;
        };
    }

    private static String two(int value) {
        return String.format(Locale.ROOT, "%02d", value);
    }
}
