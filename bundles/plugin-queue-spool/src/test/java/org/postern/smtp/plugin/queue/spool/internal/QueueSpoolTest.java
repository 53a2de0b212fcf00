package org.postern.smtp.plugin.queue.spool.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.Transaction;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.RecipientState;
import org.postern.smtp.plugin.queue.spool.internal.QueuedMessage.State;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

/** The hook and the engine together, relaying to a small SMTP server of the test's own. */
class QueueSpoolTest {
    private static final String MESSAGE = "Subject: hello\r\nFrom: alice@example.org\r\n\r\nHi.\r\n..dot\r\n";

    @TempDir
    Path dir;

    private DeliveryEngine engine;

    @AfterEach
    void stop() {
        if (engine != null) {
            engine.deactivate();
        }
    }

    private QueueSpool plugin(Map<String, Object> config) {
        Map<String, Object> values = new HashMap<>(config);
        values.put("queue.dir", dir.toString());
        values.put("tls", "none");
        engine = new DeliveryEngine(TestConfig.of(DeliveryEngine.Config.class, values), null, null);
        return new QueueSpool(engine);
    }

    private static TestContext message(String sender, String... recipients) {
        TestContext ctx = new TestContext().withConfig("me", "mx.example.org");
        ctx.transaction().sender(sender).message(MESSAGE);
        for (String recipient : recipients) {
            ctx.transaction().recipient(recipient);
        }
        return ctx;
    }

    private static String reply(HookResult result) {
        return result.code() + " " + result.replyCode().map(String::valueOf).orElse("-") + " " + result.enhancedStatus().orElse("-") + " "
                + String.join(" / ", result.message());
    }

    private List<String> files(String folder) throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve(folder))) {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aQueuedMessageIsRelayedAndARefusedRecipientBouncedToTheSender() throws Exception {
        try (FakeSmtpServer smarthost = new FakeSmtpServer(address -> address.startsWith("nobody@") ? "550 5.1.1 <" + address + ">: User unknown" : "250 Ok")) {
            QueueSpool plugin = plugin(Map.of("relayhost", "127.0.0.1:" + smarthost.port()));
            HookResult answer = HookResults.settled(plugin.onQueue(message("<alice@example.org>", "<bob@example.net>", "<nobody@example.net>")));
            assertTrue(reply(answer).matches("OK - - Queued as [0-9A-Z]+"), reply(answer));
            String id = answer.message().get(0).substring("Queued as ".length());

            FakeSmtpServer.Received relayed = smarthost.next();
            assertEquals("alice@example.org", relayed.sender());
            assertEquals(List.of("bob@example.net"), relayed.recipients());
            assertEquals(MESSAGE, relayed.data());

            FakeSmtpServer.Received bounce = smarthost.next();
            assertEquals("", bounce.sender());
            assertEquals(List.of("alice@example.org"), bounce.recipients());
            assertTrue(bounce.data().contains("\r\nReporting-MTA: dns; mx.example.org\r\nX-Postern-Queue-ID: " + id + "\r\n"), bounce.data());
            assertTrue(bounce.data().contains("\r\nFinal-Recipient: rfc822; nobody@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                    + "Remote-MTA: dns; 127.0.0.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <nobody@example.net>: User unknown\r\n"), bounce.data());
            assertTrue(bounce.data().contains("\r\nSubject: hello\r\n"), bounce.data());
        }
    }

    @Test
    void aMessageTheServerNoLongerWaitsForIsNotQueued() throws Exception {
        QueueSpool plugin = plugin(Map.of("relayhost", "127.0.0.1:1"));
        HookResult answer = HookResults.settled(plugin.onQueue(message("<alice@example.org>", "<bob@example.net>").withCommitRefused()));
        assertEquals("DENYSOFT 451 4.3.0 Queue error, please try again later", reply(answer));
        assertEquals(List.of(), files("active"));
        assertEquals(List.of(), files("tmp"));
    }

    @Test
    void aQueueThatCannotBeWrittenAnswers451() throws Exception {
        QueueSpool plugin = plugin(Map.of("relayhost", "127.0.0.1:1"));
        Files.delete(dir.resolve("active"));
        Files.writeString(dir.resolve("active"), "not a folder");
        HookResult answer = HookResults.settled(plugin.onQueue(message("<alice@example.org>", "<bob@example.net>")));
        assertEquals("DENYSOFT 451 4.3.0 Queue error, please try again later", reply(answer));
        assertEquals(List.of(), files("tmp"));
    }

    @Test
    void theEnvelopeKeepsQuotedLocalPartsTheNullSenderAnd8BitMime() throws Exception {
        QueueSpool plugin = plugin(Map.of("relayhost", "127.0.0.1:1", "retry.initial", 3600, "helo", "out.example.org"));
        TestContext plain = message("<>", "<\"odd name\"@example.net>");
        Transaction eightBit = (Transaction) Proxy.newProxyInstance(Transaction.class.getClassLoader(), new Class<?>[] {Transaction.class},
                (proxy, method, args) -> method.getName().equals("mailParameters") ? Map.of("body", "8BITMIME") : method.invoke(plain.transaction(), args));
        HookContext ctx = (HookContext) Proxy.newProxyInstance(HookContext.class.getClassLoader(), new Class<?>[] {HookContext.class},
                (proxy, method, args) -> method.getName().equals("transaction") ? eightBit : method.invoke(plain, args));
        String id = HookResults.settled(plugin.onQueue(ctx)).message().get(0).substring("Queued as ".length());
        QueuedMessage queued = EnvelopeFile.parse(id, Files.readString(dir.resolve("active/" + id + ".env")));
        assertEquals("", queued.sender());
        assertEquals("\"odd name\"@example.net", queued.recipients().get(0).address());
        assertEquals(Envelope.Body.EIGHT_BIT_MIME, queued.body());
        assertEquals("out.example.org", queued.heloName());
    }

    @Test
    void theConfigurationNamesOneNextHop() {
        DeliveryEngine.Config both = TestConfig.of(DeliveryEngine.Config.class, Map.of("relayhost", "smarthost.example", "lmtp", "unix:/run/lmtp"));
        assertThrows(IllegalArgumentException.class, () -> DeliveryEngine.nextHop(both, null, null));
        DeliveryEngine.Config verifyingMx = TestConfig.of(DeliveryEngine.Config.class, Map.of("tls", "verify"));
        assertThrows(IllegalArgumentException.class, () -> DeliveryEngine.nextHop(verifyingMx, null, null));
        assertEquals("smarthost.example:25", RelayHop.parse("smarthost.example", false).address());
        assertEquals("192.0.2.1:587", RelayHop.parse("[192.0.2.1]:587", false).address());
        assertEquals("[2001:db8::1]:25", RelayHop.parse("2001:db8::1", false).address());
        assertEquals("/run/dovecot/lmtp", RelayHop.parse("unix:/run/dovecot/lmtp", true).address());
        assertEquals("store.example:24", RelayHop.parse("store.example", true).address());
    }

    @Test
    void theQueueListingShowsAgeSenderAttemptsNextAttemptAndEachPendingRecipientsLastReply() {
        Instant now = Instant.parse("2025-03-01T12:00:00Z");
        QueuedMessage waiting = new QueuedMessage("SLOW1", "alice@example.org", now.minusSeconds(2 * 3600 + 5 * 60), "mx.example.org",
                Envelope.Body.UNKNOWN, 1234, 3, now.plusSeconds(125), List.of(
                        new RecipientState("bob@example.net", State.PENDING, "451 4.4.1 Cannot connect to 192.0.2.25:25", ""),
                        new RecipientState("carol@example.net", State.DELIVERED, "250 Ok", "dns; mx.example.net"),
                        new RecipientState("dave@example.net", State.PENDING, "", "")));
        QueuedMessage fresh = new QueuedMessage("NEW2", "", now.minusSeconds(3), "mx.example.org", Envelope.Body.UNKNOWN, 99, 0, now,
                List.of(new RecipientState("alice@example.org", State.PENDING, "452 4.2.2 Mailbox full", "dns; mx.example.org")));
        assertEquals("""
                SLOW1  age 2h 5m  from <alice@example.org>  1234 octets  3 attempts, next in 2m 5s
                  <bob@example.net>  451 4.4.1 Cannot connect to 192.0.2.25:25
                  <dave@example.net>  not tried yet
                NEW2  age 3s  from <>  99 octets  0 attempts, being delivered
                  <alice@example.org>  452 4.2.2 Mailbox full (dns; mx.example.org)
                2 messages.""", QueueCommands.describe(List.of(new QueueRunner.Listing(waiting, false), new QueueRunner.Listing(fresh, true)), now));
        assertEquals("The queue is empty.", QueueCommands.describe(List.of(), now));
        assertEquals("1d 0h", QueueCommands.age(Duration.ofSeconds(86_400 + 59)));
    }
}
