package org.postern.smtp.api;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.event.Level;

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
     * The slf4j level a line of this level is written at in the server log: NOTICE as INFO, CRIT, ALERT and
     * EMERG as ERROR ({@code logger.atLevel(level.slf4jLevel()).log(line)}).
     *
     * @since 1.3
     */
    public Level slf4jLevel() {
        return switch (this) {
            case DEBUG -> Level.DEBUG;
            case INFO, NOTICE -> Level.INFO;
            case WARN -> Level.WARN;
            case ERROR, CRIT, ALERT, EMERG -> Level.ERROR;
        };
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
