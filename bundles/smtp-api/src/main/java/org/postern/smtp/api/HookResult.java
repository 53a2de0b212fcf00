package org.postern.smtp.api;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * What a hook answers: a {@link ReturnCode}, optional message lines, and optionally a reply code and an
 * enhanced status code that refine the core's default reply. Immutable; built by the factories only.
 *
 * <p>The message lines double as the values of hooks that return data (qpsmtpd's {@code return (OK, @values)}):
 * config items, a rewritten address in {@code mail_pre}, a Received header in {@code received_line}.
 *
 * <p>A hook that must wait for I/O answers {@link #later(CompletionStage)} instead of blocking its thread.
 */
public final class HookResult {
    private static final HookResult DECLINED = new HookResult(ReturnCode.DECLINED, List.of(), 0, null, null);
    private static final HookResult OK = new HookResult(ReturnCode.OK, List.of(), 0, null, null);
    private static final HookResult DONE = new HookResult(ReturnCode.DONE, List.of(), 0, null, null);

    private final ReturnCode code;
    private final List<String> message;
    private final int replyCode;
    private final String enhancedStatus;
    private final CompletionStage<HookResult> pending;

    private HookResult(ReturnCode code, List<String> message, int replyCode, String enhancedStatus,
            CompletionStage<HookResult> pending) {
        this.code = code;
        this.message = message;
        this.replyCode = replyCode;
        this.enhancedStatus = enhancedStatus;
        this.pending = pending;
    }

    public static HookResult declined() {
        return DECLINED;
    }

    public static HookResult ok() {
        return OK;
    }

    /** OK with message lines, or with the values of a data-returning hook. */
    public static HookResult ok(String... lines) {
        return of(ReturnCode.OK, lines);
    }

    /** OK with values, e.g. the items of a config lookup. */
    public static HookResult ok(List<String> values) {
        return new HookResult(ReturnCode.OK, List.copyOf(values), 0, null, null);
    }

    /** DONE without a reply of its own: the core answers as described in the hook table. */
    public static HookResult done() {
        return DONE;
    }

    /** DONE with the reply the plugin wants the client to see, e.g. {@code done(502, "Not implemented")}. */
    public static HookResult done(int replyCode, String... lines) {
        return of(ReturnCode.DONE, lines).withReplyCode(replyCode);
    }

    public static HookResult deny(String... lines) {
        return of(ReturnCode.DENY, lines);
    }

    public static HookResult denySoft(String... lines) {
        return of(ReturnCode.DENYSOFT, lines);
    }

    public static HookResult denyDisconnect(String... lines) {
        return of(ReturnCode.DENY_DISCONNECT, lines);
    }

    public static HookResult denySoftDisconnect(String... lines) {
        return of(ReturnCode.DENYSOFT_DISCONNECT, lines);
    }

    public static HookResult of(ReturnCode code, String... lines) {
        Objects.requireNonNull(code, "code");
        return new HookResult(code, List.of(lines), 0, null, null);
    }

    /**
     * An answer that arrives later (qpsmtpd's YIELD). The stage must complete with a non-pending result; the
     * session waits for it, bounded by the hook timeout, without holding a thread.
     */
    public static HookResult later(CompletionStage<HookResult> result) {
        return new HookResult(ReturnCode.DECLINED, List.of(), 0, null, Objects.requireNonNull(result, "result"));
    }

    /**
     * Refines the reply code. It must stay in the class the return code implies (4xx for DENYSOFT, 5xx for
     * DENY, 2xx for OK); the core ignores, and logs, a code from another class.
     */
    public HookResult withReplyCode(int replyCode) {
        if (replyCode < 200 || replyCode > 599) {
            throw new IllegalArgumentException("reply code out of range: " + replyCode);
        }
        return new HookResult(code, message, replyCode, enhancedStatus, pending);
    }

    /** Sets the RFC 3463 enhanced status code, e.g. {@code "5.7.1"}. */
    public HookResult withEnhancedStatus(String enhancedStatus) {
        if (!enhancedStatus.matches("[245]\\.\\d{1,3}\\.\\d{1,3}")) {
            throw new IllegalArgumentException("not an enhanced status code: " + enhancedStatus);
        }
        return new HookResult(code, message, replyCode, enhancedStatus, pending);
    }

    public ReturnCode code() {
        return code;
    }

    /** The message lines (or returned values); empty when the core's default text applies. */
    public List<String> message() {
        return message;
    }

    /** The reply code the plugin asked for, or empty for the core's default. */
    public Optional<Integer> replyCode() {
        return replyCode == 0 ? Optional.empty() : Optional.of(replyCode);
    }

    public Optional<String> enhancedStatus() {
        return Optional.ofNullable(enhancedStatus);
    }

    /** The stage of an answer that arrives later; empty for an immediate answer. */
    public Optional<CompletionStage<HookResult>> pending() {
        return Optional.ofNullable(pending);
    }

    @Override
    public String toString() {
        if (pending != null) {
            return "LATER";
        }
        StringBuilder text = new StringBuilder(code.name());
        if (replyCode != 0) {
            text.append(' ').append(replyCode);
        }
        if (enhancedStatus != null) {
            text.append(' ').append(enhancedStatus);
        }
        if (!message.isEmpty()) {
            text.append(' ').append(String.join(" / ", message));
        }
        return text.toString();
    }
}
