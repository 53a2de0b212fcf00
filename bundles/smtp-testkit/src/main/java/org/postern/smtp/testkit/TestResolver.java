package org.postern.smtp.testkit;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.postern.smtp.api.dns.DnsFailure;
import org.postern.smtp.api.dns.MxRecord;
import org.postern.smtp.api.dns.Resolver;

/**
 * A resolver for unit tests, answering from records the test adds: {@code withA("mx.example.org", "192.0.2.1")},
 * {@code withMx("example.org", 10, "mx.example.org")}, {@code withPtr("192.0.2.1", "mx.example.org")},
 * {@code failing("broken.example")}. A name with no records answers an empty list, as NXDOMAIN does. Answers
 * complete at once; {@link #asked()} lists the lookups as {@code "TYPE name"}. Integration tests use a real
 * DNS server instead.
 */
public class TestResolver implements Resolver {
    private final Map<String, List<InetAddress>> ipv4 = new HashMap<>();
    private final Map<String, List<InetAddress>> ipv6 = new HashMap<>();
    private final Map<String, List<MxRecord>> mx = new HashMap<>();
    private final Map<String, List<String>> txt = new HashMap<>();
    private final Map<String, List<String>> ptr = new HashMap<>();
    private final Map<String, DnsFailure.Kind> failing = new HashMap<>();
    private final List<String> asked = new ArrayList<>();
    private final Map<String, CompletableFuture<List<InetAddress>>> heldIpv4 = new HashMap<>();
    private boolean holdingIpv4;

    public TestResolver withA(String name, String... addresses) {
        ipv4.computeIfAbsent(key(name), k -> new ArrayList<>()).addAll(addresses(addresses));
        return this;
    }

    public TestResolver withAaaa(String name, String... addresses) {
        ipv6.computeIfAbsent(key(name), k -> new ArrayList<>()).addAll(addresses(addresses));
        return this;
    }

    /** An MX record; an empty exchange is a null MX (RFC 7505). */
    public TestResolver withMx(String name, int preference, String exchange) {
        mx.computeIfAbsent(key(name), k -> new ArrayList<>()).add(new MxRecord(preference, exchange));
        return this;
    }

    public TestResolver withTxt(String name, String... records) {
        txt.computeIfAbsent(key(name), k -> new ArrayList<>()).addAll(List.of(records));
        return this;
    }

    /** A PTR record for an address given as text, e.g. {@code "192.0.2.1"}. */
    public TestResolver withPtr(String address, String... names) {
        ptr.computeIfAbsent(address(address).getHostAddress(), k -> new ArrayList<>()).addAll(List.of(names));
        return this;
    }

    /** Every lookup of this name (or, for PTR, this address) fails as a timeout does. */
    public TestResolver failing(String nameOrAddress) {
        return failing(nameOrAddress, DnsFailure.Kind.TIMEOUT);
    }

    public TestResolver failing(String nameOrAddress, DnsFailure.Kind kind) {
        failing.put(key(nameOrAddress), kind);
        return this;
    }

    /**
     * From now on A lookups wait until the test answers them with {@link #answerA}: for tests of what a plugin
     * does while, or in which order, answers come.
     */
    public TestResolver holdingA() {
        holdingIpv4 = true;
        return this;
    }

    /** Answers a held A lookup (one already asked, or one asked later). */
    public void answerA(String name, String... addresses) {
        heldIpv4.computeIfAbsent(key(name), k -> new CompletableFuture<>()).complete(addresses(addresses));
    }

    /** The lookups made so far, e.g. {@code "MX example.org"}, in order. */
    public List<String> asked() {
        return asked;
    }

    @Override
    public CompletionStage<List<InetAddress>> ipv4(String name) {
        if (holdingIpv4) {
            asked.add("A " + key(name));
            return heldIpv4.computeIfAbsent(key(name), k -> new CompletableFuture<>());
        }
        return answer("A", name, ipv4);
    }

    @Override
    public CompletionStage<List<InetAddress>> ipv6(String name) {
        return answer("AAAA", name, ipv6);
    }

    @Override
    public CompletionStage<List<MxRecord>> mx(String name) {
        return answer("MX", name, mx).thenApply(records -> records.stream()
                .sorted(Comparator.comparingInt(MxRecord::preference)).toList());
    }

    @Override
    public CompletionStage<List<String>> txt(String name) {
        return answer("TXT", name, txt);
    }

    @Override
    public CompletionStage<List<String>> ptr(InetAddress address) {
        return answer("PTR", address.getHostAddress(), ptr);
    }

    private <T> CompletionStage<List<T>> answer(String type, String name, Map<String, List<T>> records) {
        asked.add(type + " " + key(name));
        DnsFailure.Kind failure = failing.get(key(name));
        if (failure != null) {
            return CompletableFuture.failedFuture(new DnsFailure(failure, name, "test failure", null));
        }
        return CompletableFuture.completedFuture(List.copyOf(records.getOrDefault(key(name), List.of())));
    }

    private static String key(String name) {
        String lower = name.toLowerCase(java.util.Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }

    private static List<InetAddress> addresses(String... texts) {
        return java.util.Arrays.stream(texts).map(TestResolver::address).toList();
    }

    private static InetAddress address(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + text, e);
        }
    }
}
