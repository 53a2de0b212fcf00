package org.postern.smtp.api;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/** qpsmtpd's log levels, most verbose first. */
public enum LogLevel {
    DEBUG, INFO, NOTICE, WARN, ERROR, CRIT, ALERT, EMERG;

    private static final Pattern NUMBER = Pattern.compile("\\d{1,9}");

    /**
     * qpsmtpd's number of this level, 7 ({@code LOGDEBUG}) to 0 ({@code LOGEMERG}): a line is kept when its number
     * is at most the configured one.
     *
     * @since 1.3
     */
    public int qpsmtpdNumber() {
        return EMERG.ordinal() - ordinal();
    }

    /**
     * A level as qpsmtpd's configurations write it: a name in any case, with or without {@code LOG} or
     * {@code LOG_} before it ({@code LOGINFO}, {@code info}, {@code LOG_INFO}; {@code WARNING} for {@code WARN}),
     * or qpsmtpd's number (0 emerg … 7 debug; a larger number keeps every line, as in qpsmtpd). Empty when it is
     * neither.
     *
     * @since 1.3
     */
    public static Optional<LogLevel> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        String name = text.trim().toUpperCase(Locale.ROOT).replaceFirst("^LOG_?", "");
        if (NUMBER.matcher(name).matches()) {
            return Optional.of(values()[Math.max(0, EMERG.ordinal() - Integer.parseInt(name))]);
        }
        if (name.equals("WARNING")) {
            return Optional.of(WARN);
        }
        return Arrays.stream(values()).filter(level -> level.name().equals(name)).findFirst();
    }
}
