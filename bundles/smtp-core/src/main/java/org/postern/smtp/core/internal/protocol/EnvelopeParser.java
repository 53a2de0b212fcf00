package org.postern.smtp.core.internal.protocol;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The built-in parser of MAIL and RCPT arguments, with qpsmtpd's rules ({@code Qpsmtpd::Command}): the text
 * after {@code FROM:}/{@code TO:} is split into the address and trailing {@code KEY[=value]} parameters.
 */
public final class EnvelopeParser {
    private static final Pattern MAIL_PREFIX = Pattern.compile("^from:\\s*", Pattern.CASE_INSENSITIVE);
    private static final Pattern RCPT_PREFIX = Pattern.compile("^to:\\s*", Pattern.CASE_INSENSITIVE);
    private static final Pattern TRAILING_PARAMETER =
            Pattern.compile("\\s+([A-Za-z0-9][A-Za-z0-9\\-]*(?:=[^= \\x00-\\x1f]+)?)$");
    private static final Pattern SPACE_AFTER_AT = Pattern.compile("@.*\\s");
    private static final Pattern BARE_LOCAL_RECIPIENT = Pattern.compile("^(postmaster|abuse)$", Pattern.CASE_INSENSITIVE);

    /** The address text and the raw parameters, or the reason the line is a syntax error. */
    public record Parsed(String address, List<String> parameters, String error) {
        public boolean ok() {
            return error == null;
        }

        static Parsed failure(String error) {
            return new Parsed(null, List.of(), error);
        }
    }

    private EnvelopeParser() {
    }

    public static Parsed parseMail(String arguments) {
        return parse(arguments, MAIL_PREFIX, true);
    }

    public static Parsed parseRcpt(String arguments) {
        return parse(arguments, RCPT_PREFIX, false);
    }

    /** Parameters as a map with lower-case names; a parameter without a value maps to the empty string. */
    public static Map<String, String> parameterMap(List<String> parameters) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String parameter : parameters) {
            int eq = parameter.indexOf('=');
            String name = (eq < 0 ? parameter : parameter.substring(0, eq)).toLowerCase(Locale.ROOT);
            map.put(name, eq < 0 ? "" : parameter.substring(eq + 1));
        }
        return map;
    }

    private static Parsed parse(String arguments, Pattern prefix, boolean mail) {
        Matcher start = prefix.matcher(arguments);
        if (!start.find()) {
            return Parsed.failure("Syntax error in command");
        }
        String line = arguments.substring(start.end()).stripTrailing();
        Deque<String> parameters = new ArrayDeque<>();
        Matcher trailing = TRAILING_PARAMETER.matcher(line);
        while (trailing.find()) {
            parameters.addFirst(trailing.group(1));
            line = line.substring(0, trailing.start());
            trailing = TRAILING_PARAMETER.matcher(line);
        }
        if (!line.isEmpty()) {
            return SPACE_AFTER_AT.matcher(line).find() ? Parsed.failure("Syntax error in parameters")
                    : new Parsed(line, List.copyOf(parameters), null);
        }
        String address = parameters.pollFirst();
        if (mail) {
            if (address == null) {
                return new Parsed("<>", List.copyOf(parameters), null);
            }
            if (SPACE_AFTER_AT.matcher(address).find()) {
                return Parsed.failure("Syntax error in parameters");
            }
        } else if (address == null) {
            return Parsed.failure("Syntax error in address");
        } else if (!address.contains("@") && !BARE_LOCAL_RECIPIENT.matcher(address).matches()) {
            return Parsed.failure("Syntax error in address");
        }
        return new Parsed(address, List.copyOf(parameters), null);
    }
}
