package org.postern.smtp.plugin.greylisting.internal;

import java.util.Optional;

/**
 * What is known of a triplet, stored as qpsmtpd's greylisting database stores it: {@code since:new:black:white},
 * the second of its first attempt (of its last delivery, once whitelisted), the 1 qpsmtpd always writes, the
 * attempts deferred, and the deliveries since it was whitelisted (0 while it is not).
 */
record Triplet(long since, long seen, long deferred, long deliveries) {
    static Optional<Triplet> parse(String stored) {
        String[] fields = stored.split(":");
        if (fields.length != 4) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Triplet(Long.parseLong(fields[0]), Long.parseLong(fields[1]),
                    Long.parseLong(fields[2]), Long.parseLong(fields[3])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    String format() {
        return since + ":" + seen + ":" + deferred + ":" + deliveries;
    }

    boolean whitelisted() {
        return deliveries > 0;
    }
}
