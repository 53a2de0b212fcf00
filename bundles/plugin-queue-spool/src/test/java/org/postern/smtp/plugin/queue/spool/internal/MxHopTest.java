package org.postern.smtp.plugin.queue.spool.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.client.ClientSettings;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.client.MessageSource;
import org.postern.smtp.client.SmtpClient;
import org.postern.smtp.client.TlsPolicy;
import org.postern.smtp.plugin.queue.spool.internal.Attempt.Fate;
import org.postern.smtp.plugin.queue.spool.internal.Attempt.Result;
import org.postern.smtp.testkit.TestResolver;

class MxHopTest {
    private static final byte[] MESSAGE = "Subject: hi\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);

    private final ExecutorService blocking = Executors.newFixedThreadPool(2);
    private final SmtpClient client = SmtpClient.create(ClientSettings.defaults()
            .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(5)), blocking);
    private final TestResolver dns = new TestResolver();

    @AfterEach
    void close() {
        client.close();
        blocking.shutdown();
    }

    private Attempt deliver(MxHop hop, String... recipients) throws Exception {
        String domain = hop.destinationOf(recipients[0]);
        return hop.deliver(domain, Envelope.of("a@example.org", List.of(recipients)), MessageSource.of(MESSAGE.length,
                () -> new ByteArrayInputStream(MESSAGE)), "mx.example.org", () -> true).toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    private MxHop hop(int port) {
        return new MxHop(() -> dns, client, port, TlsPolicy.NONE);
    }

    @Test
    void theDestinationIsTheRecipientsDomainInLowerCase() {
        assertEquals("example.net", hop(25).destinationOf("\"a@b\"@Example.NET"));
    }

    @Test
    void mxHostsAreTriedByPreferenceAndOneThatCannotBeReachedPassesToTheNext() throws Exception {
        try (FakeSmtpServer server = new FakeSmtpServer(address -> address.startsWith("nobody@") ? "550 5.1.1 User unknown" : "250 2.1.5 Ok")) {
            dns.withMx("example.net", 20, "mx2.example.net").withMx("example.net", 10, "mx1.example.net")
                    .withA("mx1.example.net", "127.0.0.2").withA("mx2.example.net", "127.0.0.1");
            Attempt attempt = deliver(hop(server.port()), "b@example.net", "nobody@example.net");
            assertEquals(List.of(new Result("b@example.net", Fate.DELIVERED, "250 2.0.0 Ok: queued as FAKE1", "dns; mx2.example.net"),
                    new Result("nobody@example.net", Fate.FAILED, "550 5.1.1 User unknown", "dns; mx2.example.net")), attempt.results());
            assertFalse(attempt.destinationFailed());
            assertEquals(List.of("b@example.net"), server.next().recipients());
        }
    }

    @Test
    void aDomainWithoutMxIsItsOwnMailServer() throws Exception {
        try (FakeSmtpServer server = new FakeSmtpServer(address -> "250 Ok")) {
            dns.withA("example.net", "127.0.0.1");
            Attempt attempt = deliver(hop(server.port()), "b@example.net");
            assertEquals(Fate.DELIVERED, attempt.results().get(0).fate());
            assertEquals("dns; example.net", attempt.results().get(0).remoteMta());
            assertEquals("a@example.org", server.next().sender());
        }
    }

    @Test
    void anAddressLiteralIsDeliveredToThatAddress() throws Exception {
        try (FakeSmtpServer server = new FakeSmtpServer(address -> "250 Ok")) {
            assertEquals(Fate.DELIVERED, deliver(hop(server.port()), "b@[127.0.0.1]").results().get(0).fate());
            assertEquals(List.of(), dns.asked());
        }
    }

    @Test
    void aNullMxBouncesWithoutAConnection() throws Exception {
        dns.withMx("example.net", 0, "");
        Attempt attempt = deliver(hop(1), "b@example.net");
        assertEquals(List.of(new Result("b@example.net", Fate.FAILED, "556 5.1.10 Recipient address rejected: example.net accepts no mail (null MX)", "")),
                attempt.results());
        assertEquals(List.of("MX example.net"), dns.asked());
    }

    @Test
    void aDomainWithNoMxAndNoAddressBounces() throws Exception {
        Attempt attempt = deliver(hop(1), "b@nowhere.example");
        assertEquals(Fate.FAILED, attempt.results().get(0).fate());
        assertEquals("550 5.1.2 Host or domain name not found: nowhere.example has no MX, A or AAAA record", attempt.results().get(0).reply());
    }

    @Test
    void aDnsFailureOrServersThatCannotBeReachedDeferTheDestination() throws Exception {
        dns.failing("broken.example");
        Attempt broken = deliver(hop(1), "b@broken.example");
        assertEquals(Fate.DEFERRED, broken.results().get(0).fate());
        assertTrue(broken.results().get(0).reply().startsWith("451 4.4.3 DNS lookup of MX broken.example failed"), broken.toString());
        assertTrue(broken.destinationFailed());

        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        dns.withMx("down.example", 10, "mx.down.example").withA("mx.down.example", "127.0.0.1");
        Attempt down = deliver(hop(closed), "b@down.example");
        assertEquals(Fate.DEFERRED, down.results().get(0).fate());
        assertTrue(down.results().get(0).reply().startsWith("451 4.4.1 "), down.toString());
        assertEquals("", down.results().get(0).remoteMta(), "no server answered");
        assertTrue(down.destinationFailed());
    }
}
