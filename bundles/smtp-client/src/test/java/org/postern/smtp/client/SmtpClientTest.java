package org.postern.smtp.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.client.Delivery.Stage;

class SmtpClientTest {
    private static final String MESSAGE = "Subject: test\r\nFrom: a@example.org\r\n\r\nHello\r\n";
    private static final BooleanSupplier COMMIT = () -> true;

    @TempDir
    Path folder;
    private final ExecutorService blocking = Executors.newCachedThreadPool();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable closeable : closing) {
            closeable.close();
        }
        blocking.shutdownNow();
    }

    private FakeServer server(FakeServer server) {
        closing.add(server);
        return server;
    }

    private SmtpClient client(ClientSettings settings) {
        SmtpClient client = SmtpClient.create(settings, blocking);
        closing.add(0, client);
        return client;
    }

    private SmtpClient client() {
        return client(quick());
    }

    private static ClientSettings quick() {
        return ClientSettings.defaults().withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(5));
    }

    static MessageSource message(String text) {
        byte[] octets = text.getBytes(StandardCharsets.UTF_8);
        return MessageSource.of(octets.length, () -> new ByteArrayInputStream(octets));
    }

    private static Delivery send(SmtpClient client, Destination destination, Envelope envelope, MessageSource message) throws Exception {
        return client.send(destination, envelope, message, COMMIT).toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private static Destination to(FakeServer server) {
        return Destination.smtp("127.0.0.1", server.port()).withTls(TlsPolicy.NONE, null);
    }

    private static Envelope envelope(String... recipients) {
        return Envelope.of("a@example.org", List.of(recipients));
    }

    private static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void pipelinesTheEnvelopeAndDotStuffsTheMessage() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.repliesOnlyAfterData = true;
        String text = "Subject: dots\r\n\r\n.leading dot\r\n..two\r\nbare\nLF and bare\rCR\r\n.\r\nno final line end";
        Delivery delivery = send(client(), to(server), envelope("b@example.org", "c@example.org"), message(text));

        assertEquals(Stage.END_OF_DATA, delivery.stage());
        assertEquals("250 2.0.0 Ok: queued as FAKE1", delivery.reply().toString());
        assertTrue(delivery.isDeliveredToAll());
        assertEquals(List.of("MAIL FROM:<a@example.org> SIZE=" + text.length()), server.commands("MAIL"));
        assertEquals("Subject: dots\r\n\r\n.leading dot\r\n..two\r\nbare\r\nLF and bare\r\nCR\r\n.\r\nno final line end\r\n",
                server.messages.get(0));
        assertTrue(server.wire.get(0).contains("\r\n..leading dot\r\n...two\r\n"), server.wire.get(0));
        assertTrue(server.wire.get(0).endsWith("\r\n..\r\nno final line end\r\n.\r\n"), server.wire.get(0));
    }

    @Test
    void withoutPipeliningEachCommandWaitsForTheLastOnesReply() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.extensions = List.of("8BITMIME");
        Delivery delivery = send(client(), to(server), envelope("b@example.org", "c@example.org"), message(MESSAGE));

        assertTrue(delivery.isDeliveredToAll(), delivery.toString());
        assertEquals(List.of(), server.pipelinedUnasked);
        assertEquals(List.of("MAIL FROM:<a@example.org>"), server.commands("MAIL"));
    }

    @Test
    void aServerWithoutEhloGetsHeloAndNoExtensionIsUsed() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.knowsEhlo = false;
        Delivery delivery = send(client(), to(server).withHeloName("client.example"), envelope("b@example.org"), message(MESSAGE));

        assertTrue(delivery.isDeliveredToAll(), delivery.toString());
        assertEquals(List.of("HELO client.example"), server.commands("HELO"));
        assertEquals(List.of("MAIL FROM:<a@example.org>"), server.commands("MAIL"));
        assertEquals(List.of(), server.pipelinedUnasked);
    }

    @Test
    void aRefusedSenderEndsTheTransactionAtMail() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.mail = sender -> "553 5.7.1 <" + sender + ">: Sender address rejected";
        Delivery delivery = send(client(), to(server), envelope("b@example.org"), message(MESSAGE));

        assertEquals(Stage.MAIL, delivery.stage());
        assertEquals("553 5.7.1 <a@example.org>: Sender address rejected", delivery.reply().toString());
        assertEquals(List.of(), server.messages);
    }

    @Test
    void aRefusedRecipientKeepsItsReplyAndTheOthersGetTheMessage() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.rcpt = recipient -> recipient.startsWith("bad") ? "550 5.1.1 <" + recipient + ">: Recipient address rejected" : "250 2.1.5 Ok";
        Delivery delivery = send(client(), to(server), envelope("b@example.org", "bad@example.org", "c@example.org"), message(MESSAGE));

        assertEquals(Stage.END_OF_DATA, delivery.stage());
        assertEquals(List.of("b@example.org", "c@example.org"), delivery.delivered().stream().map(Delivery.RecipientResult::recipient).toList());
        Delivery.RecipientResult refused = delivery.undelivered().get(0);
        assertEquals("bad@example.org", refused.recipient());
        assertEquals(550, refused.reply().code());
        assertEquals("5.1.1", refused.reply().enhancedStatus());
        assertEquals(List.of("<bad@example.org>: Recipient address rejected"), refused.reply().lines());
        assertEquals(1, server.messages.size());
    }

    @Test
    void allOrNoneSendsNoMessageWhenOneRecipientIsRefused() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.rcpt = recipient -> recipient.startsWith("bad") ? "550 5.1.1 No such user" : "250 2.1.5 Ok";
        SmtpClient client = client();
        Delivery delivery = send(client, to(server), envelope("b@example.org", "bad@example.org").toAllRecipientsOrNone(), message(MESSAGE));

        assertEquals(Stage.RCPT, delivery.stage());
        assertEquals("550 5.1.1 No such user", delivery.reply().toString());
        assertTrue(delivery.delivered().isEmpty());
        assertEquals(List.of(), server.commands("DATA"));
        assertTrue(send(client, to(server), envelope("c@example.org"), message(MESSAGE)).isDeliveredToAll());
        List<String> commands = server.commands.stream().map(c -> c.substring(2)).toList();
        assertEquals("RSET", commands.get(commands.lastIndexOf("MAIL FROM:<a@example.org> SIZE=" + MESSAGE.length()) - 1));
        assertEquals(1, server.connections.get());
    }

    @Test
    void whenEveryRecipientIsRefusedATransientRefusalDecides() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.rcpt = recipient -> recipient.startsWith("later") ? "450 4.2.0 Try later" : "550 5.1.1 No such user";
        Delivery delivery = send(client(), to(server), envelope("nobody@example.org", "later@example.org"), message(MESSAGE));

        assertEquals(Stage.RCPT, delivery.stage());
        assertEquals("450 4.2.0 Try later", delivery.reply().toString());
        assertEquals(List.of(), server.messages);
    }

    @Test
    void aMessageOverTheServersSizeIsRefusedWithoutSendingIt() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.extensions = List.of("PIPELINING", "SIZE 20");
        Delivery delivery = send(client(), to(server), envelope("b@example.org"), message(MESSAGE));

        assertEquals(Stage.MAIL, delivery.stage());
        assertEquals(552, delivery.reply().code());
        assertEquals("5.3.4", delivery.reply().enhancedStatus());
        assertEquals(List.of(), server.commands("MAIL"));
    }

    @Test
    void eightBitContentIsDeclaredOrRefusedWhenTheServerLacks8bitmime() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        String latin = "Subject: caf\u00e9\r\n\r\nd\u00e9j\u00e0 vu\r\n";
        SmtpClient client = client();
        assertTrue(send(client, to(server), envelope("b@example.org"), message(latin)).isDeliveredToAll());
        assertTrue(server.commands("MAIL").get(0).endsWith(" BODY=8BITMIME"), server.commands("MAIL").toString());
        assertTrue(send(client, to(server), envelope("b@example.org"), message(MESSAGE)).isDeliveredToAll());
        assertFalse(server.commands("MAIL").get(1).contains("BODY="), server.commands("MAIL").toString());

        FakeServer old = server(FakeServer.smtp());
        old.extensions = List.of("PIPELINING");
        Delivery refused = send(client, to(old), envelope("b@example.org"), message(latin));
        assertEquals("554 5.6.3", refused.reply().code() + " " + refused.reply().enhancedStatus());
        assertEquals(List.of(), old.commands("MAIL"));
        assertTrue(send(client, to(old), envelope("b@example.org").withBody(Envelope.Body.SEVEN_BIT), message(latin)).isDeliveredToAll());
    }

    @Test
    void lmtpGivesEachAcceptedRecipientItsOwnReplyAfterTheDot() throws Exception {
        FakeServer server = server(FakeServer.lmtp());
        server.rcpt = recipient -> recipient.startsWith("nobody") ? "550 5.1.1 User doesn't exist" : "250 2.1.5 OK";
        server.lmtpReply = recipient -> recipient.startsWith("full") ? "452 4.2.2 Mailbox is full" : "250 2.0.0 Saved";
        Delivery delivery = send(client(), Destination.lmtp("127.0.0.1", server.port()),
                envelope("b@example.org", "nobody@example.org", "full@example.org"), message(MESSAGE));

        assertEquals(Stage.END_OF_DATA, delivery.stage());
        assertEquals(List.of("LHLO localhost"), server.commands("LHLO"));
        assertEquals("452 4.2.2 Mailbox is full", delivery.reply().toString());
        assertEquals(List.of("250 2.0.0 Saved", "550 5.1.1 User doesn't exist", "452 4.2.2 Mailbox is full"),
                delivery.recipients().stream().map(r -> r.reply().toString()).toList());
        assertEquals(List.of(true, false, false), delivery.recipients().stream().map(Delivery.RecipientResult::delivered).toList());
    }

    @Test
    void lmtpOverAUnixSocket() throws Exception {
        Path socket = folder.resolve("lmtp.sock");
        FakeServer server = server(FakeServer.lmtp(socket));
        Delivery delivery = send(client(), Destination.lmtp(socket), envelope("b@example.org"), message(MESSAGE));

        assertTrue(delivery.isDeliveredToAll(), delivery.toString());
        assertEquals(MESSAGE, server.messages.get(0));
    }

    @Test
    void aConnectionCarriesTheNextMessageAfterRset() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        SmtpClient client = client();
        for (int i = 0; i < 3; i++) {
            assertTrue(send(client, to(server), envelope("b@example.org"), message(MESSAGE)).isDeliveredToAll());
        }
        assertEquals(1, server.connections.get());
        // each message is followed by RSET, sent as the delivery completes
        awaitTrue("three RSET", () -> server.commands("RSET").size() == 3);
    }

    @Test
    void atMostMaxConnectionsAreOpenAndTheRestWait() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        SmtpClient client = client(quick().withPool(1, Duration.ofSeconds(30)));
        List<CompletableFuture<Delivery>> sent = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            sent.add(client.send(to(server), envelope("b@example.org"), message(MESSAGE), COMMIT).toCompletableFuture());
        }
        for (CompletableFuture<Delivery> delivery : sent) {
            assertTrue(delivery.get(30, TimeUnit.SECONDS).isDeliveredToAll());
        }
        assertEquals(1, server.connections.get());
        assertEquals(5, server.messages.size());
    }

    @Test
    void anIdleConnectionIsClosedWithQuit() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        SmtpClient client = client(quick().withPool(2, Duration.ofMillis(200)));
        assertTrue(send(client, to(server), envelope("b@example.org"), message(MESSAGE)).isDeliveredToAll());
        awaitTrue("QUIT", () -> server.commands("QUIT").size() == 1);
        assertTrue(send(client, to(server), envelope("b@example.org"), message(MESSAGE)).isDeliveredToAll());
        assertEquals(2, server.connections.get());
    }

    @Test
    void aPooledConnectionTheServerDroppedIsReplacedWithoutLosingTheMessage() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.dropsSecondMail = true;
        SmtpClient client = client();
        assertTrue(send(client, to(server), envelope("b@example.org"), message(MESSAGE)).isDeliveredToAll());
        Delivery second = send(client, to(server), envelope("b@example.org"), message(MESSAGE));
        assertTrue(second.isDeliveredToAll(), second.toString());
        assertEquals(2, server.connections.get());
    }

    @Test
    void aServerThatDoesNotAnswerTimesOut() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.silent = Set.of("MAIL");
        server.extensions = List.of();
        SmtpClient client = client(quick().withTimeouts(Duration.ofSeconds(5), Duration.ofMillis(300), Duration.ofSeconds(5), Duration.ofSeconds(5)));
        Delivery delivery = send(client, to(server), envelope("b@example.org"), message(MESSAGE));

        assertEquals(Stage.MAIL, delivery.stage());
        assertEquals(451, delivery.reply().code());
        assertEquals("4.4.2", delivery.reply().enhancedStatus());
        assertTrue(delivery.reply().text().contains("no reply to MAIL"), delivery.reply().text());
    }

    @Test
    void aServerThatIsDownIsATemporaryConnectFailure() throws Exception {
        FakeServer server = FakeServer.smtp();
        int port = server.port();
        server.close();
        Delivery delivery = send(client(), Destination.smtp("127.0.0.1", port), envelope("b@example.org"), message(MESSAGE));

        assertEquals(Stage.CONNECT, delivery.stage());
        assertEquals("451 4.4.1", delivery.reply().code() + " " + delivery.reply().enhancedStatus());
    }

    @Test
    void aRefusingGreetingEndsTheConnection() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.greeting = "554 5.3.2 No service here";
        Delivery delivery = send(client(), to(server), envelope("b@example.org"), message(MESSAGE));

        assertEquals(Stage.GREETING, delivery.stage());
        assertEquals("554 5.3.2 No service here", delivery.reply().toString());
        awaitTrue("QUIT", () -> server.commands("QUIT").size() == 1);
    }

    @Test
    void theCallerCanAbandonTheTransferBeforeTheFinalDot() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        Delivery delivery = client().send(to(server), envelope("b@example.org"), message(MESSAGE), () -> false)
                .toCompletableFuture().get(30, TimeUnit.SECONDS);

        assertEquals(Stage.DATA, delivery.stage());
        assertEquals("451 4.3.0", delivery.reply().code() + " " + delivery.reply().enhancedStatus());
        assertEquals(List.of("DATA"), server.commands("DATA"));
        awaitTrue("the connection closed", () -> server.commands.size() > 0);
        assertEquals(List.of(), server.messages);
    }

    @Test
    void aLargeMessageStreamsThrough() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        StringBuilder text = new StringBuilder("Subject: big\r\n\r\n");
        while (text.length() < 4_000_000) {
            text.append(".a line of a big message, which starts with a dot\r\n");
        }
        Delivery delivery = send(client(), to(server), envelope("b@example.org"), message(text.toString()));

        assertTrue(delivery.isDeliveredToAll(), delivery.toString());
        assertEquals(text.toString(), server.messages.get(0));
    }

    @Test
    void opportunisticTlsEncryptsWhenOffered() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.tls = TestCertificates.forHost(folder, "localhost").serverContext();
        Delivery delivery = send(client(), to(server).withTls(TlsPolicy.MAY, null), envelope("b@example.org"), message(MESSAGE));

        assertTrue(delivery.isDeliveredToAll(), delivery.toString());
        assertEquals(1, server.tlsSessions.get());
        assertEquals(2, server.commands("EHLO").size());
    }

    @Test
    void opportunisticTlsFallsBackToClearTextWhenTheHandshakeFails() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.tls = TestCertificates.forHost(folder, "localhost").serverContext();
        server.brokenTls = true;
        Delivery delivery = send(client(), to(server).withTls(TlsPolicy.MAY, null), envelope("b@example.org"), message(MESSAGE));

        assertTrue(delivery.isDeliveredToAll(), delivery.toString());
        assertEquals(2, server.connections.get());
        assertEquals(1, server.commands("STARTTLS").size());
    }

    @Test
    void requiredTlsSendsNothingWithoutIt() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        Delivery delivery = send(client(), to(server).withTls(TlsPolicy.ENCRYPT, null), envelope("b@example.org"), message(MESSAGE));

        assertEquals(Stage.STARTTLS, delivery.stage());
        assertEquals("451 4.7.5", delivery.reply().code() + " " + delivery.reply().enhancedStatus());
        assertEquals(List.of(), server.commands("MAIL"));
    }

    @Test
    void repliesInjectedBeforeTheHandshakeFailTheConnection() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.tls = TestCertificates.forHost(folder, "localhost").serverContext();
        server.afterStartTls = "\r\n250 injected";
        Delivery delivery = send(client(), to(server).withTls(TlsPolicy.ENCRYPT, null), envelope("b@example.org"), message(MESSAGE));

        assertEquals(Stage.STARTTLS, delivery.stage());
        assertTrue(delivery.reply().text().contains("after its 220 to STARTTLS"), delivery.reply().toString());
        assertEquals(List.of(), server.commands("MAIL"));
    }

    @Test
    void verifiedTlsChecksTheChainAndTheHostName() throws Exception {
        TestCertificates localhost = TestCertificates.forHost(folder, "localhost");
        TestCertificates other = TestCertificates.forHost(folder, "other.example");
        FakeServer server = server(FakeServer.smtp());
        server.tls = localhost.serverContext();
        SmtpClient client = client();
        Destination destination = Destination.smtp("localhost", server.port());

        assertTrue(send(client, destination.withTls(TlsPolicy.VERIFY, localhost.pem), envelope("b@example.org"), message(MESSAGE))
                .isDeliveredToAll());
        Delivery untrusted = send(client, destination.withTls(TlsPolicy.VERIFY, null), envelope("b@example.org"), message(MESSAGE));
        assertEquals(Stage.STARTTLS, untrusted.stage());
        assertEquals("451 4.7.5", untrusted.reply().code() + " " + untrusted.reply().enhancedStatus());

        FakeServer wrongName = server(FakeServer.smtp());
        wrongName.tls = other.serverContext();
        Delivery misnamed = send(client, Destination.smtp("localhost", wrongName.port()).withTls(TlsPolicy.VERIFY, other.pem),
                envelope("b@example.org"), message(MESSAGE));
        assertEquals(Stage.STARTTLS, misnamed.stage());
        assertEquals(List.of(), wrongName.commands("MAIL"));
        // without verification the same certificate is fine
        assertTrue(send(client, Destination.smtp("localhost", wrongName.port()).withTls(TlsPolicy.ENCRYPT, null), envelope("b@example.org"),
                message(MESSAGE)).isDeliveredToAll());
    }

    @Test
    void authPlainGoesOverTlsOnly() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.tls = TestCertificates.forHost(folder, "localhost").serverContext();
        server.auth = List.of("PLAIN", "LOGIN");
        SmtpClient client = client();
        Destination destination = to(server).withAuth("alice", "secret", false);

        Delivery clear = send(client, destination, envelope("b@example.org"), message(MESSAGE));
        assertEquals(Stage.AUTH, clear.stage());
        assertEquals("451 4.7.11", clear.reply().code() + " " + clear.reply().enhancedStatus());
        assertEquals(List.of(), server.commands("AUTH"));

        assertTrue(send(client, destination.withTls(TlsPolicy.ENCRYPT, null), envelope("b@example.org"), message(MESSAGE)).isDeliveredToAll());
        assertEquals(List.of("credentials |alice|secret"), server.commands("CREDENTIALS"));
        assertTrue(server.commands("AUTH").get(0).startsWith("AUTH PLAIN "));
    }

    @Test
    void authLoginWhenThatIsAllTheServerHasAndAWrongPasswordEndsAtAuth() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.auth = List.of("LOGIN");
        SmtpClient client = client();
        assertTrue(send(client, to(server).withAuth("alice", "secret", true), envelope("b@example.org"), message(MESSAGE)).isDeliveredToAll());
        assertEquals(List.of("AUTH LOGIN"), server.commands("AUTH"));

        Delivery refused = send(client, to(server).withAuth("alice", "wrong", true), envelope("b@example.org"), message(MESSAGE));
        assertEquals(Stage.AUTH, refused.stage());
        assertEquals("535 5.7.8 Error: authentication failed", refused.reply().toString());
    }

    @Test
    void xclientSendsTheAttributesTheServerNamesThenEhloAsTheClient() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        server.extensions = List.of("PIPELINING", "XCLIENT NAME ADDR HELO");
        SmtpClient client = client();
        Envelope envelope = envelope("b@example.org").withXclient(java.util.Map.of("ADDR", "192.0.2.7", "NAME", "[UNAVAILABLE]",
                "HELO", "client.example", "LOGIN", "user name"));
        assertTrue(send(client, to(server), envelope, message(MESSAGE)).isDeliveredToAll());
        assertEquals(List.of("XCLIENT ADDR=192.0.2.7 HELO=client.example NAME=[UNAVAILABLE]"), server.commands("XCLIENT"));
        assertEquals(List.of("EHLO localhost", "EHLO client.example"), server.commands("EHLO"));
        // a connection that speaks for one client carries no other client's message
        assertTrue(send(client, to(server), envelope.withXclient(java.util.Map.of("HELO", "other client")), message(MESSAGE)).isDeliveredToAll());
        assertEquals(2, server.connections.get());
        assertEquals("XCLIENT HELO=other+20client", server.commands("XCLIENT").get(1));
        assertEquals("EHLO localhost", server.commands("EHLO").get(3));

        FakeServer plain = server(FakeServer.smtp());
        Delivery unsupported = send(client, to(plain), envelope, message(MESSAGE));
        assertEquals(Stage.XCLIENT, unsupported.stage());
        assertEquals("451 4.3.5", unsupported.reply().code() + " " + unsupported.reply().enhancedStatus());
        assertEquals(List.of(), plain.commands("MAIL"));
    }

    /** The greeting, or the message of the greeting's failure. */
    private static String greet(SmtpClient client, Destination destination, Duration timeout) throws Exception {
        return client.greet(destination, timeout).toCompletableFuture().handle((greeting, error) -> error == null ? greeting.toString()
                : error.getCause().getClass().getSimpleName() + ": " + error.getCause().getMessage()).get(30, TimeUnit.SECONDS);
    }

    @Test
    void greetReadsTheGreetingAndSaysQuitWithoutAnythingElse() throws Exception {
        FakeServer server = server(FakeServer.smtp());
        assertEquals("220 fake.example ESMTP", greet(client(), to(server), Duration.ofSeconds(2)));
        awaitTrue("QUIT", () -> server.commands("QUIT").size() == 1);
        assertEquals(List.of("1 QUIT"), server.commands);

        server.greeting = "554 5.3.2 No service here";
        assertEquals("IOException: 554 5.3.2 No service here", greet(client(), to(server), Duration.ofSeconds(2)));
        awaitTrue("QUIT after the refusal", () -> server.commands("QUIT").size() == 2);
    }

    @Test
    void greetReachesAnLmtpServerOnAUnixSocket() throws Exception {
        Path socket = folder.resolve("lmtp.sock");
        FakeServer server = server(FakeServer.lmtp(socket));
        server.greeting = "220 store.example LMTP ready";
        assertEquals("220 store.example LMTP ready", greet(client(), Destination.lmtp(socket), Duration.ofSeconds(2)));
    }

    @Test
    void greetFailsWithTheReasonWithinItsTimeout() throws Exception {
        FakeServer down = FakeServer.smtp();
        int closedPort = down.port();
        down.close();
        String refused = greet(client(), Destination.smtp("127.0.0.1", closedPort), Duration.ofSeconds(2));
        assertTrue(refused.startsWith("IOException: 451 4.4.1 Cannot connect to 127.0.0.1:" + closedPort), refused);

        // the system accepts connections into the backlog of a socket that nobody accepts from: connected, never greeted
        try (java.net.ServerSocket mute = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
            long started = System.nanoTime();
            String silence = greet(client(), Destination.smtp("127.0.0.1", mute.getLocalPort()), Duration.ofMillis(500));
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertTrue(silence.startsWith("IOException: 451 4.4.2 "), silence);
            assertTrue(tookMillis >= 450 && tookMillis < 3000, tookMillis + " ms");
        }
    }
}
