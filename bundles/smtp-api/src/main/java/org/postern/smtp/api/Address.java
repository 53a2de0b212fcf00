package org.postern.smtp.api;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An RFC 5321 path: a local part and an optional domain, or the null sender {@code <>}. Parsing and
 * formatting follow qpsmtpd's {@code Qpsmtpd::Address}: source routes are dropped, {@code <postmaster>} needs
 * no domain, a quoted local part is unquoted, and {@link #format()} quotes it again where it must.
 */
public final class Address {
    private static final String ATOM = "[a-zA-Z0-9!#%&*+=?^_`{|}~$'\\-/]+";
    private static final String ADDRESS_LITERAL =
            "(?:\\[(?:\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}|IPv6:[0-9A-Fa-f:.]+)\\])";
    private static final String SUBDOMAIN = "(?:[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)";
    private static final String DOMAIN = "(?:" + ADDRESS_LITERAL + "|" + SUBDOMAIN + "(?:\\." + SUBDOMAIN + ")*)";
    private static final Pattern SOURCE_ROUTE = Pattern.compile("^@" + DOMAIN + "(?:,@" + DOMAIN + ")*:");
    private static final Pattern MAILBOX = Pattern.compile("^(.*)@(" + DOMAIN + ")$");
    private static final Pattern DOT_ATOM = Pattern.compile("^" + ATOM + "(?:\\." + ATOM + ")*$");
    // RFC 5321 qtextSMTP includes the space, which qpsmtpd's RFC 2822 qtext leaves out.
    private static final Pattern QUOTED = Pattern.compile("^\"((?:[\\x01-\\x08\\x0B\\x0C\\x0E-\\x1F\\x20\\x21\\x23-\\x5B\\x5D-\\x7F]"
            + "|\\\\[\\x01-\\x09\\x0B\\x0C\\x0E-\\x7F])*)\"$");
    private static final Pattern QUOTED_PAIR = Pattern.compile("\\\\([\\x01-\\x09\\x0B\\x0C\\x0E-\\x7F])");
    /** What a quoted local part must escape: the quote, the backslash, and the tab, which only a quoted pair carries. */
    private static final Pattern NEEDS_ESCAPING = Pattern.compile("([\"\\\\\t])");

    private static final Address NULL_SENDER = new Address(null, null);

    private final String user;
    private final String host;

    private Address(String user, String host) {
        this.user = user;
        this.host = host;
    }

    /** The null reverse-path {@code <>}. */
    public static Address nullSender() {
        return NULL_SENDER;
    }

    /** An address from its parts; {@code host} may be null (e.g. {@code postmaster}). */
    public static Address of(String user, String host) {
        return new Address(Objects.requireNonNull(user, "user"), host);
    }

    /**
     * Parses a path in angle brackets, e.g. {@code <"john doe"@example.org>} or {@code <@relay:user@host>}.
     * Returns empty when the text is not a path qpsmtpd would accept.
     */
    public static Optional<Address> parse(String path) {
        if (path == null || path.length() < 2 || !path.startsWith("<") || !path.endsWith(">")) {
            return Optional.empty();
        }
        String inner = SOURCE_ROUTE.matcher(path.substring(1, path.length() - 1)).replaceFirst("");
        if (inner.isEmpty()) {
            return Optional.of(NULL_SENDER);
        }
        if (inner.equalsIgnoreCase("postmaster")) {
            return Optional.of(new Address("postmaster", null));
        }
        Matcher mailbox = MAILBOX.matcher(inner);
        if (!mailbox.matches()) {
            return Optional.empty();
        }
        String local = mailbox.group(1);
        String domain = mailbox.group(2);
        if (DOT_ATOM.matcher(local).matches()) {
            return Optional.of(new Address(local, domain));
        }
        Matcher quoted = QUOTED.matcher(local);
        if (quoted.matches()) {
            return Optional.of(new Address(QUOTED_PAIR.matcher(quoted.group(1)).replaceAll("$1"), domain));
        }
        return Optional.empty();
    }

    public boolean isNullSender() {
        return user == null;
    }

    /** The local part, unquoted; empty for the null sender. */
    public String user() {
        return user == null ? "" : user;
    }

    /** The domain as given by the client, if any. */
    public Optional<String> host() {
        return Optional.ofNullable(host);
    }

    /** The domain in lower case, for comparisons. */
    public Optional<String> normalizedHost() {
        return host().map(h -> h.toLowerCase(Locale.ROOT));
    }

    /** {@code user@host} without brackets or quoting (qpsmtpd's {@code address}). */
    public String address() {
        return user() + (host == null ? "" : "@" + host);
    }

    /**
     * The canonical path with angle brackets: the local part as it is when it is a dot-atom, quoted otherwise (an
     * empty one, one with a leading, trailing or doubled dot, or with other characters), so that the path parses
     * back to this address.
     */
    public String format() {
        if (user == null) {
            return "<>";
        }
        String hostPart = host == null ? "" : "@" + host;
        if (DOT_ATOM.matcher(user).matches()) {
            return "<" + user + hostPart + ">";
        }
        return "<\"" + NEEDS_ESCAPING.matcher(user).replaceAll("\\\\$1") + "\"" + hostPart + ">";
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Address that && Objects.equals(user, that.user)
                && Objects.equals(normalizedHost(), that.normalizedHost());
    }

    @Override
    public int hashCode() {
        return Objects.hash(user, normalizedHost());
    }

    @Override
    public String toString() {
        return format();
    }
}
