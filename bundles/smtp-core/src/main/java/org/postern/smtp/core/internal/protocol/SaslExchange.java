package org.postern.smtp.core.internal.protocol;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;

/**
 * The server side of one SASL exchange for AUTH (RFC 4954): PLAIN (RFC 4616), LOGIN and CRAM-MD5 (RFC 2195),
 * as qpsmtpd's {@code Qpsmtpd::Auth} runs them. Each client line moves it one step: another challenge, the
 * credentials to check, or a failure to report.
 */
final class SaslExchange {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What the client proved it knows; the auth hooks decide whether that is enough. */
    record Credentials(String mechanism, String user, String clearPassword, String hashedPassword, String ticket) {
    }

    /** The next thing to do. */
    sealed interface Step permits Challenge, Done, Failed {
    }

    /** Send {@code 334 <text>} and wait for the client's answer. */
    record Challenge(String text) implements Step {
    }

    record Done(Credentials credentials) implements Step {
    }

    record Failed(Reply reply) implements Step {
    }

    private final String mechanism;
    private final String me;
    private String user;
    private String ticket;

    private SaslExchange(String mechanism, String me) {
        this.mechanism = mechanism;
        this.me = me;
    }

    /** An exchange for a mechanism the server offers (plain, login or cram-md5); {@code me} names the server. */
    static SaslExchange forMechanism(String mechanism, String me) {
        return new SaslExchange(mechanism, me);
    }

    /** The first step, with the initial response the client put on the AUTH line, or null. */
    Step begin(String initialResponse) {
        return switch (mechanism) {
            case "plain" -> initialResponse == null ? new Challenge("") : plain(initialResponse);
            case "login" -> {
                if (initialResponse == null) {
                    yield new Challenge(encode("Username:"));
                }
                String decoded = decode(initialResponse);
                if (decoded == null) {
                    yield invalidBase64();
                }
                user = decoded;
                yield new Challenge(encode("Password:"));
            }
            case "cram-md5" -> {
                ticket = String.format("<%x.%x@%s>", RANDOM.nextInt(1 << 30), System.currentTimeMillis() / 1000, me);
                yield new Challenge(encode(ticket));
            }
            default -> throw new IllegalArgumentException("mechanism not offered: " + mechanism);
        };
    }

    /** The client's answer to the last challenge. */
    Step respond(String line) {
        if (line.equals("*")) {
            return new Failed(Reply.of(501, "5.7.0", "Authentication canceled"));
        }
        String decoded = decode(line);
        if (decoded == null) {
            return invalidBase64();
        }
        return switch (mechanism) {
            case "plain" -> plain(line);
            case "login" -> {
                if (user == null) {
                    user = decoded;
                    yield new Challenge(encode("Password:"));
                }
                yield user.isEmpty() || decoded.isEmpty() ? new Failed(Reply.of(535, "5.7.8", "Authentication invalid"))
                        : new Done(new Credentials(mechanism, user, decoded, null, null));
            }
            default -> {
                int space = decoded.lastIndexOf(' ');
                if (space <= 0 || space == decoded.length() - 1) {
                    yield new Failed(Reply.of(504, "5.5.4", "Invalid authentication string"));
                }
                yield new Done(new Credentials(mechanism, decoded.substring(0, space), null,
                        decoded.substring(space + 1).toLowerCase(Locale.ROOT), ticket));
            }
        };
    }

    /** PLAIN: authorization id, user and password separated by NUL; a different authorization id is refused. */
    private Step plain(String base64) {
        String decoded = decode(base64);
        if (decoded == null) {
            return invalidBase64();
        }
        String[] parts = decoded.split("\0", -1);
        if (parts.length != 3 || parts[1].isEmpty() || parts[2].isEmpty()) {
            return new Failed(Reply.of(535, "5.7.8", "Authentication invalid"));
        }
        if (!parts[0].isEmpty() && !parts[0].equals(parts[1])) {
            return new Failed(Reply.of(535, "5.7.8", "Authentication invalid for " + parts[1]));
        }
        return new Done(new Credentials(mechanism, parts[1], parts[2], null, null));
    }

    private static Failed invalidBase64() {
        return new Failed(Reply.of(501, "5.5.2", "Cannot decode the authentication data (base64 expected)"));
    }

    private static String encode(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String decode(String base64) {
        try {
            return new String(Base64.getDecoder().decode(base64.strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
