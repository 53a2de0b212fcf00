package org.postern.smtp.api;

import java.util.Locale;

/**
 * The conventions of qpsmtpd's {@code Qpsmtpd::Plugin} that most policy plugins follow, so a ported plugin
 * keeps its options ({@code reject}, {@code reject_type}) and its effect on the others (immunity, naughty
 * deferral, karma, Authentication-Results).
 */
public final class PluginConventions {
    private PluginConventions() {
    }

    /**
     * qpsmtpd's {@code is_immune}: true for a client that may relay (it authenticated, or a plugin set
     * {@link SharedNotes#RELAY_CLIENT}), a whitelisted host, or a whitelisted sender. Logs why at INFO.
     */
    public static boolean isImmune(HookContext ctx) {
        Session session = ctx.session();
        if (session.authenticatedUser().isPresent() || session.notes().get(SharedNotes.RELAY_CLIENT).orElse(false)) {
            ctx.log(LogLevel.INFO, "skip, relay client");
            return true;
        }
        if (session.notes().get(SharedNotes.WHITELIST_HOST).orElse(false)) {
            ctx.log(LogLevel.INFO, "skip, whitelisted host");
            return true;
        }
        if (ctx.transaction().notes().get(SharedNotes.WHITELIST_SENDER).orElse(false)) {
            ctx.log(LogLevel.INFO, "skip, whitelisted sender");
            return true;
        }
        return false;
    }

    /**
     * Perl's truth, which qpsmtpd's plugin arguments have: false when empty (after trimming), {@code 0}, or the
     * {@code false} an administrator used to Java may write; true otherwise ({@code 1}, {@code yes}, …).
     *
     * @since 1.3
     */
    public static boolean perlTrue(String option) {
        String value = option == null ? "" : option.strip();
        return !value.isEmpty() && !value.equals("0") && !value.equalsIgnoreCase("false");
    }

    /**
     * qpsmtpd's {@code get_reject_type}: {@code temp}/{@code soft} → DENYSOFT, {@code perm}/{@code hard} →
     * DENY, {@code disconnect} → DENY_DISCONNECT, {@code temp_disconnect} → DENYSOFT_DISCONNECT; empty or
     * anything else → the fallback.
     */
    public static ReturnCode rejectType(String rejectType, ReturnCode fallback) {
        String type = rejectType == null ? "" : rejectType.trim().toLowerCase(Locale.ROOT);
        return switch (type) {
            case "temp", "soft" -> ReturnCode.DENYSOFT;
            case "perm", "hard" -> ReturnCode.DENY;
            case "disconnect" -> ReturnCode.DENY_DISCONNECT;
            case "temp_disconnect" -> ReturnCode.DENYSOFT_DISCONNECT;
            default -> fallback;
        };
    }

    /**
     * qpsmtpd's {@code get_reject}: what a plugin answers when its check failed, by its {@code reject}
     * option. {@code 0} (or {@code false}): tolerated, DECLINED. {@code naughty}: the reply is deferred into
     * {@link SharedNotes#NAUGHTY} for the naughty plugin, DECLINED. Anything else: a refusal of the plugin's
     * {@code reject_type} (DENY by default) with the reply text. Logs "fail" with the detail at INFO.
     */
    public static HookResult reject(HookContext ctx, String reject, String rejectType, String reply, String logDetail) {
        String detail = logDetail == null || logDetail.isEmpty() ? "" : ", " + logDetail;
        String option = reject == null ? "" : reject.trim().toLowerCase(Locale.ROOT);
        if (option.equals("0") || option.equals("false")) {
            ctx.log(LogLevel.INFO, "fail, tolerated" + detail);
            return HookResult.declined();
        }
        if (option.equals("naughty")) {
            ctx.log(LogLevel.INFO, "fail, NAUGHTY" + detail);
            deferReject(ctx, reply, rejectType);
            return HookResult.declined();
        }
        ctx.log(LogLevel.INFO, "fail" + detail);
        return HookResult.of(rejectType(rejectType, ReturnCode.DENY), reply);
    }

    private static void deferReject(HookContext ctx, String reply, String rejectType) {
        Notes notes = ctx.session().notes();
        notes.put(SharedNotes.NAUGHTY, notes.get(SharedNotes.NAUGHTY).map(previous -> previous + "\r\n" + reply).orElse(reply));
        if (notes.get(SharedNotes.NAUGHTY_REJECT_TYPE).isEmpty() && rejectType != null) {
            notes.put(SharedNotes.NAUGHTY_REJECT_TYPE, rejectType);
        }
    }

    /** qpsmtpd's {@code adjust_karma}: adds to the session's karma, logs it, and returns the adjustment. */
    public static int adjustKarma(HookContext ctx, int adjustment) {
        Notes notes = ctx.session().notes();
        int karma = notes.get(SharedNotes.KARMA).orElse(0) + adjustment;
        notes.put(SharedNotes.KARMA, karma);
        ctx.log(LogLevel.INFO, "karma " + adjustment + " (" + karma + ")");
        return adjustment;
    }

    /**
     * qpsmtpd's {@code store_auth_results}: adds a result, such as {@code spf=pass smtp.mailfrom=example.org},
     * to the Authentication-Results header the core writes on each message of the session.
     */
    public static void storeAuthResults(HookContext ctx, String result) {
        append(ctx.session().notes(), SharedNotes.AUTHENTICATION_RESULTS, result);
    }

    /**
     * Adds a result that holds for the current transaction's message only, such as a DKIM or DMARC verdict, to
     * its Authentication-Results header. qpsmtpd stores every result for the whole connection, so a second message
     * of a session carried the first one's; a result stored by a {@code data_post} plugin is in the header too.
     *
     * @since 1.5
     */
    public static void storeTransactionAuthResults(HookContext ctx, String result) {
        append(ctx.transaction().notes(), SharedNotes.TRANSACTION_AUTHENTICATION_RESULTS, result);
    }

    private static void append(Notes notes, NoteKey<String> key, String result) {
        notes.put(key, notes.get(key).map(previous -> previous + "; " + result).orElse(result));
    }
}
