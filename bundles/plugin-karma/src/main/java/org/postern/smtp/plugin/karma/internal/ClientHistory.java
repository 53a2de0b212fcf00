package org.postern.smtp.plugin.karma.internal;

import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.postern.smtp.api.store.StateStore;

/**
 * What karma knows of one client address, qpsmtpd's {@code penalty_start_ts:naughty:nice:connects} record: when the
 * last penalty started (epoch seconds, 0 for never; in the future for a penalty box bonus) and the naughty, nice and
 * total sessions counted so far. In the store each field is a key of its own under {@code karma:<ip>:}, so the counts
 * grow with {@link StateStore#add} and two nodes sharing a store both count.
 */
record ClientHistory(long penaltyStart, long naughty, long nice, long connects) {
    /** Every write renews the key it writes for this long: a client that keeps coming is never forgotten. */
    static final Duration KEPT_FOR = Duration.ofDays(365);

    static CompletionStage<ClientHistory> read(StateStore store, String ip) {
        CompletableFuture<Long> penaltyStart = number(store.get(key(ip, Field.PENALTY)));
        CompletableFuture<Long> naughty = number(store.get(key(ip, Field.NAUGHTY)));
        CompletableFuture<Long> nice = number(store.get(key(ip, Field.NICE)));
        CompletableFuture<Long> connects = number(store.get(key(ip, Field.CONNECTS)));
        return CompletableFuture.allOf(penaltyStart, naughty, nice, connects)
                .thenApply(all -> new ClientHistory(penaltyStart.join(), naughty.join(), nice.join(), connects.join()));
    }

    static CompletionStage<Long> count(StateStore store, String ip, Field field) {
        return store.add(key(ip, field), 1, KEPT_FOR);
    }

    /** Starts a penalty, kept at least until it is over. */
    static CompletionStage<Void> penalize(StateStore store, String ip, long start, Duration untilOver) {
        Duration ttl = untilOver.compareTo(KEPT_FOR) > 0 ? untilOver : KEPT_FOR;
        return store.put(key(ip, Field.PENALTY), Long.toString(start), ttl);
    }

    static String key(String ip, Field field) {
        return "karma:" + ip + ":" + field.name().toLowerCase(Locale.ROOT);
    }

    /** A value that is not a number fails the stage, as a store failure does. */
    private static CompletableFuture<Long> number(CompletionStage<Optional<String>> value) {
        return value.thenApply(text -> text.map(Long::parseLong).orElse(0L)).toCompletableFuture();
    }

    boolean isEmpty() {
        return penaltyStart == 0 && naughty == 0 && nice == 0 && connects == 0;
    }

    /** qpsmtpd's karma history: nice sessions less naughty ones. */
    long karma() {
        return nice - naughty;
    }

    String summary() {
        return naughty + " naughty, " + nice + " nice, " + connects + " connects";
    }

    enum Field { PENALTY, NAUGHTY, NICE, CONNECTS }
}
