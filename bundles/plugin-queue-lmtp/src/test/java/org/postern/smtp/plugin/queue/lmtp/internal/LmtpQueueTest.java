package org.postern.smtp.plugin.queue.lmtp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.client.Delivery;
import org.postern.smtp.client.Delivery.RecipientResult;
import org.postern.smtp.client.Delivery.Stage;
import org.postern.smtp.client.Destination;
import org.postern.smtp.client.Reply;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class LmtpQueueTest {
    private static final Destination STORE = Destination.lmtp(Path.of("/run/dovecot/lmtp"));
    private static final Reply SAVED = Reply.of(250, "2.0.0", "<a@example.org> Saved");
    private static final Reply OVER_QUOTA = Reply.of(552, "5.2.2", "<b@example.org> Quota exceeded");
    private static final Reply TRY_LATER = Reply.of(451, "4.3.0", "<c@example.org> Temporary internal error");

    private static String reply(HookResult result) {
        return result.code() + " " + result.replyCode().map(String::valueOf).orElse("-") + " " + result.enhancedStatus().orElse("-") + " "
                + String.join(" / ", result.message());
    }

    private static HookResult answer(TestContext ctx, Reply decisive, RecipientResult... recipients) {
        return LmtpQueue.answer(ctx, STORE, new Delivery(Stage.END_OF_DATA, decisive, List.of(recipients)));
    }

    @Test
    void theServerIsAHostAndPortOrASocket() {
        assertEquals(Destination.lmtp("127.0.0.1", 2424), LmtpQueue.destination("127.0.0.1:2424"));
        assertEquals(Destination.lmtp("mail.example.org", 24), LmtpQueue.destination("mail.example.org"));
        assertEquals(Destination.lmtp("::1", 24), LmtpQueue.destination("[::1]:24"));
        assertEquals(Destination.lmtp("::1", 24), LmtpQueue.destination("::1"));
        assertEquals(Destination.lmtp(Path.of("/run/dovecot/lmtp")), LmtpQueue.destination("/run/dovecot/lmtp"));
        assertThrows(IllegalArgumentException.class, () -> LmtpQueue.destination(""));
    }

    @Test
    void everyRecipientSavedIsOk() {
        assertEquals("OK - - ", reply(answer(new TestContext(), SAVED, new RecipientResult("a@example.org", SAVED, true))));
    }

    @Test
    void aPermanentRefusalAfterTheDotIsDenyAndTheRecipientsThatGotItAreLogged() {
        TestContext ctx = new TestContext();
        HookResult result = answer(ctx, OVER_QUOTA, new RecipientResult("a@example.org", SAVED, true),
                new RecipientResult("b@example.org", OVER_QUOTA, false));
        assertEquals("DENY 552 5.2.2 Delivery failed (<b@example.org>: 552 5.2.2 <b@example.org> Quota exceeded)", reply(result));
        assertTrue(ctx.logged().contains("WARN delivered only to a@example.org, who still appear in its bounce"), ctx.logged().toString());
    }

    @Test
    void aTemporaryFailureOfAnyRecipientIsDenysoft() {
        TestContext ctx = new TestContext();
        HookResult result = answer(ctx, TRY_LATER, new RecipientResult("a@example.org", SAVED, true),
                new RecipientResult("b@example.org", OVER_QUOTA, false), new RecipientResult("c@example.org", TRY_LATER, false));
        assertEquals("DENYSOFT 451 4.3.0 Delivery failed temporarily (<b@example.org>: 552 5.2.2 <b@example.org> Quota exceeded; "
                + "<c@example.org>: 451 4.3.0 <c@example.org> Temporary internal error)", reply(result));
        assertTrue(ctx.logged().contains("WARN delivered only to a@example.org, who get it again when the client retries"), ctx.logged().toString());
    }

    @Test
    void anUnreachableServerIsDenysoft() throws Exception {
        LmtpQueue plugin = new LmtpQueue(TestConfig.of(LmtpQueue.Config.class, Map.of("lmtp.server", "/nonexistent/lmtp.sock")));
        try {
            TestContext ctx = new TestContext();
            ctx.transaction().sender("<a@example.org>").recipient("<b@example.org>").message("Subject: x\r\n\r\nhello\r\n");
            HookResult answer = HookResults.settled(plugin.onQueue(ctx));
            assertEquals("DENYSOFT 451 4.4.2", answer.code() + " " + answer.replyCode().orElseThrow() + " " + answer.enhancedStatus().orElseThrow());
        } finally {
            plugin.deactivate();
        }
    }

    @Test
    void theProbeFailsWithinItsTimeoutWhenTheServerIsDown() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        for (String server : List.of("127.0.0.1:" + port, "/nonexistent/lmtp.sock")) {
            LmtpQueue plugin = new LmtpQueue(TestConfig.of(LmtpQueue.Config.class, Map.of("lmtp.server", server)));
            try {
                assertEquals("LMTP server " + server, plugin.peer());
                CompletableFuture<String> probe = plugin.probe(Duration.ofSeconds(2)).toCompletableFuture();
                ExecutionException failed = assertThrows(ExecutionException.class, () -> probe.get(5, TimeUnit.SECONDS));
                assertTrue(failed.getCause().getMessage().startsWith("451 4.4."), failed.getCause().toString());
            } finally {
                plugin.deactivate();
            }
        }
    }
}
