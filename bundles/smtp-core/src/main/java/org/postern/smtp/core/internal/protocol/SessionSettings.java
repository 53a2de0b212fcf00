package org.postern.smtp.core.internal.protocol;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The limits and names a session works with; see the core's configuration for their meaning and defaults.
 *
 * @param me the server's host name, in replies and the Received header
 * @param greeting the text after 220, without the host name
 * @param maxErrors syntax and sequence errors (500-504, 555) a client may make before it is disconnected
 * @param auth when AUTH is offered and how failed attempts are slowed down
 */
public record SessionSettings(
        String me,
        String greeting,
        long maxMessageSize,
        int maxRecipients,
        int maxCommandLineLength,
        int maxHeaderSize,
        int maxErrors,
        BareLineEndings bareLineEndings,
        Path spoolFolder,
        int spoolMemoryThreshold,
        AuthPolicy auth) {

    /**
     * @param tlsBeforeAuth with TLS available, AUTH is offered and accepted only after STARTTLS
     * @param failureDelay how long the reply to a session's first failed AUTH is held back; doubled for each
     *     further failure in the session
     * @param maxFailureDelay the longest a failed AUTH's reply is held back
     * @param required MAIL is refused until the client authenticated (a submission listener)
     */
    public record AuthPolicy(boolean tlsBeforeAuth, Duration failureDelay, Duration maxFailureDelay, boolean required) {
        /** No delays, AUTH without TLS: for tests of the state machine. */
        public static final AuthPolicy UNTHROTTLED = new AuthPolicy(false, Duration.ZERO, Duration.ZERO);

        /** A policy that lets clients send mail without authenticating. */
        public AuthPolicy(boolean tlsBeforeAuth, Duration failureDelay, Duration maxFailureDelay) {
            this(tlsBeforeAuth, failureDelay, maxFailureDelay, false);
        }

        public AuthPolicy withTlsBeforeAuth(boolean newTlsBeforeAuth) {
            return new AuthPolicy(newTlsBeforeAuth, failureDelay, maxFailureDelay, required);
        }

        public AuthPolicy withRequired(boolean newRequired) {
            return new AuthPolicy(tlsBeforeAuth, failureDelay, maxFailureDelay, newRequired);
        }

        /** The delay before the reply to the session's n-th failed attempt (n from 1). */
        public Duration delayAfter(int failures) {
            if (failures <= 0 || failureDelay.isZero()) {
                return Duration.ZERO;
            }
            Duration delay = failureDelay.multipliedBy(1L << Math.min(failures - 1, 20));
            return delay.compareTo(maxFailureDelay) > 0 ? maxFailureDelay : delay;
        }
    }

    /** These settings with another AUTH policy. */
    public SessionSettings withAuth(AuthPolicy newAuth) {
        return new SessionSettings(me, greeting, maxMessageSize, maxRecipients, maxCommandLineLength, maxHeaderSize,
                maxErrors, bareLineEndings, spoolFolder, spoolMemoryThreshold, newAuth);
    }

    /**
     * The items of qpsmtpd's own that a {@code config} hook plugin may answer for a session, as qpsmtpd's core
     * reads them through {@code config()}: {@code me}, {@code smtpgreeting} (the whole 220 text),
     * {@code databytes} and {@code tls_before_auth}.
     */
    public static final List<String> CONFIG_HOOK_ITEMS = List.of("me", "smtpgreeting", "databytes", "tls_before_auth");

    /**
     * These settings with the config hook's answers (the first value of each item of {@link #CONFIG_HOOK_ITEMS})
     * in place of the server's configuration. An answer that cannot be used is passed to {@code unusable} and
     * the configured value stays: a {@code databytes} of 0, which qpsmtpd reads as no limit, among them.
     */
    public SessionSettings withConfigHookAnswers(Map<String, String> answers, Consumer<String> unusable) {
        String newMe = me;
        String answeredMe = answers.get("me");
        if (answeredMe != null) {
            if (!answeredMe.isEmpty() && answeredMe.chars().allMatch(c -> c > ' ' && c < 127)) {
                newMe = answeredMe;
            } else {
                unusable.accept("me '" + answeredMe + "' is not a host name");
            }
        }
        long newMaxSize = maxMessageSize;
        String databytes = answers.get("databytes");
        if (databytes != null) {
            try {
                newMaxSize = Long.parseLong(databytes);
            } catch (NumberFormatException e) {
                newMaxSize = 0;
            }
            if (newMaxSize <= 0) {
                unusable.accept("databytes '" + databytes + "' is not a positive number of bytes");
                newMaxSize = maxMessageSize;
            }
        }
        String tlsBeforeAuth = answers.get("tls_before_auth");
        AuthPolicy newAuth = tlsBeforeAuth == null ? auth : auth.withTlsBeforeAuth(!tlsBeforeAuth.equals("0"));
        return new SessionSettings(newMe, greeting, newMaxSize, maxRecipients, maxCommandLineLength, maxHeaderSize,
                maxErrors, bareLineEndings, spoolFolder, spoolMemoryThreshold, newAuth);
    }

    /** What to do with a bare LF or bare CR inside DATA. */
    public enum BareLineEndings {
        /** Reply 554 5.6.11 and close: the sender's framing cannot be trusted (SMTP smuggling). */
        REJECT,
        /** Store the line as if it ended in CRLF; only CRLF.CRLF still ends the message. */
        NORMALIZE
    }
}
