package org.postern.dns.internal;

import io.netty.channel.AddressedEnvelope;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.postern.smtp.api.dns.DnsFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One configuration's lookups: queries through Netty's DNS client to each server in turn until one answers,
 * answers cached for their TTL (NXDOMAIN and empty answers for the SOA's negative TTL), and one query in
 * flight per name and type however many sessions ask at once.
 */
final class Lookups {
    private static final Logger LOG = LoggerFactory.getLogger(Lookups.class);

    /** How an answer's records become what the caller gets. */
    record Kind<T>(DnsRecordType type, Function<DnsRecord, T> read) {
    }

    /** A parsed answer and how long it may be kept. */
    record Answer(List<?> records, long ttlSeconds) {
    }

    private final DnsNameResolver client;
    private final List<InetSocketAddress> servers;
    private final ResolverSettings settings;
    private final TtlCache<List<?>> cache;
    private final Map<String, CompletableFuture<List<?>>> inFlight = new ConcurrentHashMap<>();

    Lookups(EventLoop loop, List<InetSocketAddress> servers, ResolverSettings settings) {
        this.servers = List.copyOf(servers);
        this.settings = settings;
        this.cache = new TtlCache<>(settings.cacheSize(), System::nanoTime);
        this.client = new DnsNameResolverBuilder(loop)
                .datagramChannelType(NioDatagramChannel.class)
                // a truncated UDP answer is asked again over TCP
                .socketChannelType(NioSocketChannel.class)
                .queryTimeoutMillis(settings.timeoutMillis())
                .recursionDesired(true)
                .resolveCache(NoopDnsCache.INSTANCE)
                .build();
    }

    List<InetSocketAddress> servers() {
        return servers;
    }

    /** The records of a type for a name: from the cache, from a query already in flight, or from a new one. */
    @SuppressWarnings("unchecked")
    <T> CompletableFuture<List<T>> lookup(String name, Kind<T> kind) {
        String absolute = absolute(name);
        String key = kind.type().name() + " " + absolute;
        List<?> cached = cache.get(key);
        if (cached != null) {
            return CompletableFuture.completedFuture((List<T>) cached);
        }
        CompletableFuture<List<?>> asked = new CompletableFuture<>();
        CompletableFuture<List<?>> shared = inFlight.putIfAbsent(key, asked);
        if (shared == null) {
            shared = asked;
            uncached(absolute, kind).whenComplete((answer, failure) -> {
                if (failure == null) {
                    cache.put(key, answer.records(), answer.ttlSeconds());
                }
                inFlight.remove(key, asked);
                if (failure == null) {
                    asked.complete(answer.records());
                } else {
                    asked.completeExceptionally(failure);
                }
            });
        }
        // each caller gets its own stage: none can complete or cancel the one the others wait for
        return (CompletableFuture<List<T>>) (CompletableFuture<?>) shared.copy();
    }

    /**
     * A query asked now, past the cache and the queries in flight, of each server in turn until one answers (what
     * {@link #lookup} asks when it has no answer, and a health check's question whether DNS answers at all).
     */
    <T> CompletableFuture<Answer> uncached(String name, Kind<T> kind) {
        CompletableFuture<Answer> answer = new CompletableFuture<>();
        ask(absolute(name), kind, 0, answer);
        return answer;
    }

    void close() {
        client.close();
        cache.clear();
    }

    private <T> void ask(String name, Kind<T> kind, int serverIndex, CompletableFuture<Answer> answer) {
        Future<AddressedEnvelope<DnsResponse, InetSocketAddress>> query;
        try {
            query = client.query(servers.get(serverIndex), new DefaultDnsQuestion(name, kind.type()));
        } catch (RuntimeException e) {
            answer.completeExceptionally(new DnsFailure(DnsFailure.Kind.NETWORK, name, e.toString(), e));
            return;
        }
        query.addListener(done -> {
            if (done.isSuccess()) {
                @SuppressWarnings("unchecked")
                AddressedEnvelope<DnsResponse, InetSocketAddress> envelope = (AddressedEnvelope<DnsResponse, InetSocketAddress>) done.getNow();
                try {
                    answer.complete(read(name, kind, envelope.content()));
                } catch (DnsFailure failure) {
                    retryOrFail(name, kind, serverIndex, answer, failure);
                } catch (RuntimeException malformed) {
                    retryOrFail(name, kind, serverIndex, answer,
                            new DnsFailure(DnsFailure.Kind.NETWORK, name, "unreadable answer: " + malformed, malformed));
                } finally {
                    envelope.release();
                }
                return;
            }
            Throwable cause = done.cause();
            DnsFailure.Kind failureKind = cause instanceof DnsNameResolverTimeoutException ? DnsFailure.Kind.TIMEOUT : DnsFailure.Kind.NETWORK;
            retryOrFail(name, kind, serverIndex, answer,
                    new DnsFailure(failureKind, name, failureKind == DnsFailure.Kind.TIMEOUT ? "no answer in "
                            + settings.timeoutMillis() + " ms from " + servers.get(serverIndex) : cause.toString(), cause));
        });
    }

    private <T> void retryOrFail(String name, Kind<T> kind, int serverIndex, CompletableFuture<Answer> answer, DnsFailure failure) {
        if (serverIndex + 1 < servers.size()) {
            LOG.debug("{} {}: {}; asking the next server", kind.type().name(), name, failure.getMessage());
            ask(name, kind, serverIndex + 1, answer);
        } else {
            LOG.debug("{} {}: {}", kind.type().name(), name, failure.getMessage());
            answer.completeExceptionally(failure);
        }
    }

    <T> Answer read(String name, Kind<T> kind, DnsResponse response) {
        DnsResponseCode code = response.code();
        if (code == DnsResponseCode.NXDOMAIN) {
            return new Answer(List.of(), negativeTtl(response));
        }
        if (code != DnsResponseCode.NOERROR) {
            throw new DnsFailure(DnsFailure.Kind.SERVER_FAILURE, name, "the server answered " + code, null);
        }
        List<T> records = new ArrayList<>();
        long ttl = Long.MAX_VALUE;
        // a recursive server puts the CNAME chain first; the records of the type asked are the answer
        for (int i = 0; i < response.count(DnsSection.ANSWER); i++) {
            DnsRecord record = response.recordAt(DnsSection.ANSWER, i);
            if (record.type() == kind.type()) {
                T value = kind.read().apply(record);
                if (value != null) {
                    records.add(value);
                    ttl = Math.min(ttl, record.timeToLive());
                }
            }
        }
        if (records.isEmpty()) {
            return new Answer(List.of(), negativeTtl(response));
        }
        return new Answer(List.copyOf(records), Math.max(settings.minTtlSeconds(), Math.min(ttl, settings.maxTtlSeconds())));
    }

    private long negativeTtl(DnsResponse response) {
        for (int i = 0; i < response.count(DnsSection.AUTHORITY); i++) {
            DnsRecord record = response.recordAt(DnsSection.AUTHORITY, i);
            if (record.type() == DnsRecordType.SOA) {
                return Math.min(Records.negativeTtl(record), settings.maxNegativeTtlSeconds());
            }
        }
        // RFC 2308 5: without an SOA a negative answer is not cached
        return 0;
    }

    /** The name as an absolute, lower-case name: no search domain is ever appended to it. */
    static String absolute(String name) {
        String lower = name.strip().toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower : lower + ".";
    }
}
