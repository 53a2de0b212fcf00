package org.postern.dns.internal;

/** The limits of the resolver, from its configuration; see {@link NettyResolver.Config} for their meaning. */
record ResolverSettings(long timeoutMillis, int cacheSize, long minTtlSeconds, long maxTtlSeconds, long maxNegativeTtlSeconds) {
    ResolverSettings {
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("timeout.ms must be positive, not " + timeoutMillis);
        }
        if (cacheSize < 0 || minTtlSeconds < 0 || maxTtlSeconds < minTtlSeconds || maxNegativeTtlSeconds < 0) {
            throw new IllegalArgumentException("cache.size and the TTL limits cannot be negative, and max.ttl >= min.ttl");
        }
    }
}
