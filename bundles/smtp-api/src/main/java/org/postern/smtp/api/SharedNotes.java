package org.postern.smtp.api;

/**
 * The notes qpsmtpd's plugins exchange, with typed keys, so a Postern plugin reads and writes them as its
 * qpsmtpd counterpart would. Connection notes live in {@link Session#notes()}, transaction notes in
 * {@link Transaction#notes()}; the name of each key is qpsmtpd's.
 */
public final class SharedNotes {
    /** Connection: the client may relay (qpsmtpd's {@code relay_client}), set by relay plugins. */
    public static final NoteKey<Boolean> RELAY_CLIENT = NoteKey.of("relay_client", Boolean.class);

    /** Connection: the client host is whitelisted (by {@code whitelist} or {@code dns_whitelist_soft}). */
    public static final NoteKey<Boolean> WHITELIST_HOST = NoteKey.of("whitelisthost", Boolean.class);

    /**
     * Connection: the HELO name is whitelisted (by {@code whitelist}'s {@code whitelisthelo}).
     *
     * @since 1.3
     */
    public static final NoteKey<Boolean> WHITELIST_HELO = NoteKey.of("whitelisthelo", Boolean.class);

    /**
     * Transaction: how many of the recipients are whitelisted (by {@code whitelist}'s {@code whitelistrcpt}).
     *
     * @since 1.3
     */
    public static final NoteKey<Integer> WHITELIST_RCPT = NoteKey.of("whitelistrcpt", Integer.class);

    /** Transaction: the sender is whitelisted (by {@code whitelist}). */
    public static final NoteKey<Boolean> WHITELIST_SENDER = NoteKey.of("whitelistsender", Boolean.class);

    /**
     * Connection: the reply a plugin deferred with {@code reject naughty}, for the {@code naughty} plugin to
     * give later; several are joined with CRLF.
     */
    public static final NoteKey<String> NAUGHTY = NoteKey.of("naughty", String.class);

    /** Connection: the reject type of the first deferred reply, as its plugin's {@code reject_type} said. */
    public static final NoteKey<String> NAUGHTY_REJECT_TYPE = NoteKey.of("naughty_reject_type", String.class);

    /**
     * Connection: the client's karma history, its net good and bad sessions from earlier connections, set by the
     * {@code karma} plugin at connect; hosts_allow and earlytalker relax their limits for a positive one.
     *
     * @since 1.3
     */
    public static final NoteKey<Integer> KARMA_HISTORY = NoteKey.of("karma_history", Integer.class);

    /** Connection: the client's karma in this session, raised and lowered by {@link PluginConventions#adjustKarma}. */
    public static final NoteKey<Integer> KARMA = NoteKey.of("karma", Integer.class);

    /**
     * Connection: results for the {@code Authentication-Results} header the core adds to each message
     * (RFC 8601), joined with "; " by {@link PluginConventions#storeAuthResults}.
     */
    public static final NoteKey<String> AUTHENTICATION_RESULTS = NoteKey.of("authentication_results", String.class);

    /**
     * Transaction: results for the {@code Authentication-Results} header of this transaction's message only, joined
     * with "; " by {@link PluginConventions#storeTransactionAuthResults}; the core writes them after
     * {@link #AUTHENTICATION_RESULTS}.
     *
     * @since 1.5
     */
    public static final NoteKey<String> TRANSACTION_AUTHENTICATION_RESULTS =
            NoteKey.of("transaction_authentication_results", String.class);

    /**
     * Transaction: SPF's verdict on the sender, for DMARC (qpsmtpd's {@code dmarc_spf}), set by
     * {@code sender_permitted_from}.
     *
     * @since 1.5
     */
    public static final NoteKey<SpfResult> DMARC_SPF = NoteKey.of("dmarc_spf", SpfResult.class);

    /**
     * Transaction: the verdicts on the message's DKIM signatures, set by {@code dkim} at the end of DATA, for DMARC
     * and other plugins (qpsmtpd keeps its verifier object in the connection's {@code dkim_verifier} note).
     *
     * @since 1.5
     */
    public static final NoteKey<DkimResults> DKIM_RESULTS = NoteKey.of("dkim_results", DkimResults.class);

    private SharedNotes() {
    }
}
