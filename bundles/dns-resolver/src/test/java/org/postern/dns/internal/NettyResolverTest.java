package org.postern.dns.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.dns.DnsFailure;
import org.postern.smtp.api.dns.MxRecord;
import org.postern.smtp.testkit.Dnsmasq;

/** The resolver against a real DNS server: dnsmasq on loopback, answering from the records below only. */
class NettyResolverTest {
    private static Dnsmasq dns;
    private NettyResolver resolver;

    @BeforeAll
    static void startDns() throws Exception {
        dns = Dnsmasq.start("--local=/test/", "--local=/100.51.198.in-addr.arpa/", "--local-ttl=300",
                "--host-record=mx.mail.test,192.0.2.10,2001:db8::10",
                "--host-record=backup.mail.test,192.0.2.11",
                "--mx-host=mail.test,backup.mail.test,20", "--mx-host=mail.test,mx.mail.test,10",
                "--txt-record=spf.mail.test,v=spf1 ip4:192.0.2.0/24, -all",
                "--cname=www.mail.test,mx.mail.test");
    }

    @AfterAll
    static void stopDns() throws InterruptedException {
        dns.close();
    }

    @AfterEach
    void stop() {
        if (resolver != null) {
            resolver.deactivate();
        }
    }

    private NettyResolver resolver(String... nameservers) {
        resolver = new NettyResolver(config(Map.of("nameservers", nameservers, "timeout_ms", 500L)));
        return resolver;
    }

    @Test
    void answersEachRecordType() throws Exception {
        NettyResolver resolver = resolver(dns.address());
        assertEquals(List.of(InetAddress.getByName("192.0.2.10")), get(resolver.ipv4("mx.mail.test")));
        assertEquals(List.of(InetAddress.getByName("2001:db8::10")), get(resolver.ipv6("MX.Mail.Test.")));
        assertEquals(List.of(new MxRecord(10, "mx.mail.test"), new MxRecord(20, "backup.mail.test")), get(resolver.mx("mail.test")));
        assertEquals(List.of("v=spf1 ip4:192.0.2.0/24 -all"), get(resolver.txt("spf.mail.test")));
        assertEquals(List.of("mx.mail.test"), get(resolver.ptr(InetAddress.getByName("192.0.2.10"))));
        assertEquals(List.of(InetAddress.getByName("192.0.2.10")), get(resolver.ipv4("www.mail.test")), "CNAMEs are followed");
    }

    @Test
    void aMissingNameOrRecordIsAnEmptyAnswerNotAFailure() throws Exception {
        NettyResolver resolver = resolver(dns.address());
        assertEquals(List.of(), get(resolver.ipv4("nowhere.test")), "NXDOMAIN");
        assertEquals(List.of(), get(resolver.mx("mx.mail.test")), "no MX at a name that exists");
        assertEquals(List.of(), get(resolver.ptr(InetAddress.getByName("198.51.100.1"))));
    }

    @Test
    void answersAreKeptForTheirTtl() throws Exception {
        try (Dnsmasq ownServer = Dnsmasq.start("--local=/test/", "--local-ttl=300", "--host-record=cached.test,192.0.2.20")) {
            NettyResolver resolver = resolver(ownServer.address());
            assertEquals(List.of(InetAddress.getByName("192.0.2.20")), get(resolver.ipv4("cached.test")));
            ownServer.close();
            assertEquals(List.of(InetAddress.getByName("192.0.2.20")), get(resolver.ipv4("cached.test")),
                    "answered from the cache once the server is gone");
        }
    }

    @Test
    void aServerThatNeverAnswersIsATimeoutAndTheNextServerIsAsked() throws Exception {
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            String silentServer = "127.0.0.1:" + silent.getLocalPort();
            ExecutionException failed = assertThrows(ExecutionException.class, () -> get(resolver(silentServer).ipv4("mx.mail.test")));
            DnsFailure failure = assertInstanceOf(DnsFailure.class, failed.getCause());
            assertEquals(DnsFailure.Kind.TIMEOUT, failure.kind());
            assertEquals("mx.mail.test.", failure.name());
            resolver.deactivate();
            resolver = null;
            long started = System.nanoTime();
            assertEquals(List.of(InetAddress.getByName("192.0.2.10")), get(resolver(silentServer, dns.address()).ipv4("mx.mail.test")));
            assertTrue(System.nanoTime() - started >= TimeUnit.MILLISECONDS.toNanos(400), "the second server after the first one's timeout");
        }
    }

    @Test
    void theProbeAsksTheServersForLocalhostPastTheCache() throws Exception {
        try (Dnsmasq ownServer = Dnsmasq.start("--host-record=localhost,127.0.0.1", "--local-ttl=300")) {
            NettyResolver resolver = resolver(ownServer.address());
            assertEquals("DNS " + ownServer.address(), resolver.peer());
            assertEquals("localhost. A 127.0.0.1", get(resolver.probe(Duration.ofSeconds(2))));
            assertEquals(List.of(InetAddress.getByName("127.0.0.1")), get(resolver.ipv4("localhost")));
            ownServer.close();
            assertEquals(List.of(InetAddress.getByName("127.0.0.1")), get(resolver.ipv4("localhost")), "lookups answer from the cache");
            ExecutionException failed = assertThrows(ExecutionException.class, () -> get(resolver.probe(Duration.ofSeconds(2))));
            assertInstanceOf(DnsFailure.class, failed.getCause(), "the probe asks the server that is gone");
        }
    }

    @Test
    void theProbeFailsWithinItsTimeoutWhenNoServerAnswers() throws Exception {
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            NettyResolver resolver = resolver("127.0.0.1:" + silent.getLocalPort());
            long started = System.nanoTime();
            ExecutionException failed = assertThrows(ExecutionException.class, () -> get(resolver.probe(Duration.ofMillis(200))));
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertInstanceOf(TimeoutException.class, failed.getCause());
            assertTrue(tookMillis >= 200 && tookMillis < 450, "the probe's 200 ms, not the resolver's 500: " + tookMillis + " ms");
        }
    }

    @Test
    void serversAreHostPortPairsOrTheSystems() {
        assertEquals(List.of(new java.net.InetSocketAddress("127.0.0.1", 5353), new java.net.InetSocketAddress("::1", 53),
                new java.net.InetSocketAddress("::1", 5300)), NettyResolver.servers(new String[] {"127.0.0.1:5353", "::1", "[::1]:5300", " "}));
        assertTrue(!NettyResolver.servers(new String[0]).isEmpty(), "resolv.conf's servers");
        assertThrows(IllegalArgumentException.class, () -> NettyResolver.servers(new String[] {"127.0.0.1:dns"}));
    }

    private static <T> T get(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** The component's configuration as DS builds it: the given values, defaults for the rest. */
    static NettyResolver.Config config(Map<String, Object> values) {
        return (NettyResolver.Config) Proxy.newProxyInstance(NettyResolver.Config.class.getClassLoader(),
                new Class<?>[] {NettyResolver.Config.class}, (proxy, method, args) ->
                        values.containsKey(method.getName()) ? values.get(method.getName()) : method.getDefaultValue());
    }
}
