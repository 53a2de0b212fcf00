package org.postern.smtp.plugin.greylisting.internal;

import java.time.Duration;
import java.util.Optional;
import org.postern.smtp.api.LogLevel;

/**
 * The greylisting decision for one attempt of a triplet: whether to defer it, what to record, for how long the
 * record matters, and qpsmtpd's log line. A record is kept only while it can still change a decision, so that
 * an expired one reads as unknown.
 */
record Verdict(boolean defer, Triplet record, Duration ttl, LogLevel level, String log) {
    static Verdict of(Optional<Triplet> known, long now, Greylisting.Timeouts timeouts) {
        if (known.isEmpty()) {
            return unknown(now, timeouts, "unknown");
        }
        Triplet triplet = known.get();
        long age = now - triplet.since();
        if (triplet.whitelisted() && age < timeouts.white()) {
            long deliveries = triplet.deliveries() + 1;
            return new Verdict(false, new Triplet(now, triplet.seen(), triplet.deferred(), deliveries),
                    Duration.ofSeconds(timeouts.white()), LogLevel.INFO, "pass: white, " + deliveries + " deliveries");
        }
        if (age < timeouts.black()) {
            // the first attempt's second stays, so the black period does not grow with each retry
            long deferred = triplet.deferred() + 1;
            return new Verdict(true, new Triplet(triplet.since(), triplet.seen(), deferred, 0),
                    Duration.ofSeconds(timeouts.grey() - age), LogLevel.WARN,
                    "fail: black DENYSOFT - " + deferred + " deferred connections");
        }
        if (age < timeouts.grey()) {
            return new Verdict(false, new Triplet(now, triplet.seen(), triplet.deferred(), 1),
                    Duration.ofSeconds(timeouts.white()), LogLevel.WARN, "pass: updated grey->white");
        }
        // qpsmtpd 0.94's code lets such a triplet through unrecorded; its documentation, followed here, starts over
        return unknown(now, timeouts, triplet.whitelisted() ? "timed out (white)" : "timed out (grey)");
    }

    private static Verdict unknown(long now, Greylisting.Timeouts timeouts, String why) {
        return new Verdict(true, new Triplet(now, 1, 0, 0), Duration.ofSeconds(timeouts.grey()), LogLevel.WARN,
                "fail: initial DENYSOFT, " + why);
    }
}
