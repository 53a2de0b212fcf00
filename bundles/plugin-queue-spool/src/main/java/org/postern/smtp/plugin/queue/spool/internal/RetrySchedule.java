package org.postern.smtp.plugin.queue.spool.internal;

import java.time.Duration;

/**
 * How long to wait after the n-th failure in a row: {@code initial}, then doubling, at most {@code max}
 * (300 s, 600 s, 1200 s, 2400 s, 3600 s, 3600 s … by default).
 */
record RetrySchedule(Duration initial, Duration max) {
    RetrySchedule {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("retry.initial must be positive and retry.max at least retry.initial: " + initial + ", " + max);
        }
    }

    Duration delayAfter(int failures) {
        Duration delay = initial;
        for (int i = 1; i < failures && delay.compareTo(max) < 0; i++) {
            delay = delay.multipliedBy(2);
        }
        return delay.compareTo(max) < 0 ? delay : max;
    }
}
