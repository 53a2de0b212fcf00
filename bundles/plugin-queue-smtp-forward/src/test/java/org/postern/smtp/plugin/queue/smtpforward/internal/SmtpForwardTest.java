package org.postern.smtp.plugin.queue.smtpforward.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.client.Delivery;
import org.postern.smtp.client.Delivery.RecipientResult;
import org.postern.smtp.client.Delivery.Stage;
import org.postern.smtp.client.Destination;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.client.Reply;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class SmtpForwardTest {
    private static final Destination SMARTHOST = Destination.smtp("192.0.2.25", 25);
    private static final Reply OK = Reply.of(250, "2.1.5", "Ok");

    private static String reply(HookResult result) {
        return result.code() + " " + result.replyCode().map(String::valueOf).orElse("-") + " " + result.enhancedStatus().orElse("-") + " "
                + String.join(" / ", result.message());
    }

    private static RecipientResult result(String recipient, Reply reply, boolean delivered) {
        return new RecipientResult(recipient, reply, delivered);
    }

    @Test
    void acceptedForEveryRecipientIsQueuedWithTheSmarthostsQueueId() {
        Reply queued = Reply.of(250, "2.0.0", "Ok: queued as 4Xk2Lm");
        Delivery delivery = new Delivery(Stage.END_OF_DATA, queued, List.of(result("b@example.org", queued, true)));
        assertEquals("OK - - queued as 4Xk2Lm", reply(Answers.forward(new TestContext(), SMARTHOST, delivery)));
    }

    @Test
    void aRecipientTheSmarthostRefusesForGoodRefusesTheMessageWithItsReply() {
        Reply unknown = Reply.of(550, "5.1.1", "User unknown");
        Delivery delivery = new Delivery(Stage.RCPT, unknown, List.of(result("b@example.org", OK, false),
                result("nobody@example.org", unknown, false)));
        TestContext ctx = new TestContext();
        assertEquals("DENY 550 5.1.1 Unable to queue message (<nobody@example.org>: 550 5.1.1 User unknown)",
                reply(Answers.forward(ctx, SMARTHOST, delivery)));
        assertTrue(ctx.logged().get(0).startsWith("WARN not queued at 192.0.2.25:25 (rcpt): "), ctx.logged().toString());
    }

    @Test
    void temporaryTroubleIsDenysoftWithTheSmarthostsCodeBut421() {
        Reply full = Reply.of(452, "4.3.1", "Insufficient system storage");
        assertEquals("DENYSOFT 452 4.3.1 Unable to queue message (452 4.3.1 Insufficient system storage)",
                reply(Answers.forward(new TestContext(), SMARTHOST, new Delivery(Stage.MAIL, full, List.of(result("b@example.org", full, false))))));
        Reply closing = Reply.of(421, "4.3.2", "Service shutting down");
        assertEquals("DENYSOFT 451 4.3.2 Unable to queue message (421 4.3.2 Service shutting down)",
                reply(Answers.forward(new TestContext(), SMARTHOST, new Delivery(Stage.DATA, closing, List.of(result("b@example.org", closing, false))))));
    }

    @Test
    void aPermanentRefusalWhileSettingUpIsTemporaryForTheMessage() {
        Reply badPassword = Reply.of(535, "5.7.8", "Error: authentication failed");
        assertEquals("DENYSOFT 451 4.7.8 Unable to queue message (535 5.7.8 Error: authentication failed)",
                reply(Answers.forward(new TestContext(), SMARTHOST, new Delivery(Stage.AUTH, badPassword,
                        List.of(result("b@example.org", badPassword, false))))));
    }

    @Test
    void aRefusalOfTheMessageIsDeny() {
        Reply spam = Reply.of(554, "5.7.1", "Spam");
        assertEquals("DENY 554 5.7.1 Unable to queue message (554 5.7.1 Spam)", reply(Answers.forward(new TestContext(), SMARTHOST,
                new Delivery(Stage.END_OF_DATA, spam, List.of(result("b@example.org", spam, false))))));
    }

    @Test
    void theEnvelopeGoesToAllRecipientsOrNoneAndABounceKeepsItsNullSender() {
        TestContext ctx = new TestContext();
        ctx.transaction().sender("<>").recipient("<b@example.org>").recipient("<c@example.org>");
        Envelope envelope = SmtpForward.envelope(ctx.transaction());
        assertEquals("", envelope.sender());
        assertEquals(List.of("b@example.org", "c@example.org"), envelope.recipients());
        assertTrue(envelope.allRecipients());
        assertEquals(Envelope.Body.UNKNOWN, envelope.body());
    }

    @Test
    void xclientTellsTheClientAsQpsmtpdDoesAndItsLogin() {
        TestContext ctx = new TestContext();
        assertEquals(Map.of("NAME", "[UNAVAILABLE]", "ADDR", "192.0.2.1", "PORT", "40000", "HELO", "client.example", "PROTO", "ESMTP"),
                SmtpForward.xclientAttributes(ctx.session()));
        ctx.session().remoteHost("mail.example.org").authenticated("alice@example.org");
        assertEquals("mail.example.org", SmtpForward.xclientAttributes(ctx.session()).get("NAME"));
        assertEquals("alice@example.org", SmtpForward.xclientAttributes(ctx.session()).get("LOGIN"));
    }

    @Test
    void aSmarthostThatIsDownGives451AndTheServerIsRequired() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        SmtpForward plugin = new SmtpForward(TestConfig.of(SmtpForward.Config.class, Map.of("smtp.server", "127.0.0.1", "smtp.port", port)));
        try {
            TestContext ctx = new TestContext();
            ctx.transaction().sender("<a@example.org>").recipient("<b@example.org>").message("Subject: x\r\n\r\nhello\r\n");
            HookResult answer = HookResults.settled(plugin.onQueue(ctx));
            assertEquals(ReturnCode.DENYSOFT, answer.code());
            assertEquals("451 4.4.1", answer.replyCode().orElseThrow() + " " + answer.enhancedStatus().orElseThrow());
        } finally {
            plugin.deactivate();
        }
        assertThrows(IllegalArgumentException.class, () -> new SmtpForward(TestConfig.of(SmtpForward.Config.class, Map.of())));
    }

    @Test
    void theProbeReadsTheSmarthostsGreetingAndSaysQuit() throws Exception {
        try (ServerSocket smarthost = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            CompletableFuture<String> said = CompletableFuture.supplyAsync(() -> {
                try (Socket client = smarthost.accept()) {
                    client.getOutputStream().write("220 smarthost.test ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
                    String line = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.US_ASCII)).readLine();
                    client.getOutputStream().write("221 2.0.0 Bye\r\n".getBytes(StandardCharsets.US_ASCII));
                    return line;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            SmtpForward plugin = new SmtpForward(TestConfig.of(SmtpForward.Config.class,
                    Map.of("smtp.server", "127.0.0.1", "smtp.port", smarthost.getLocalPort())));
            try {
                assertEquals("smarthost 127.0.0.1:" + smarthost.getLocalPort(), plugin.peer());
                assertEquals("220 smarthost.test ESMTP", plugin.probe(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS));
                assertEquals("QUIT", said.get(10, TimeUnit.SECONDS));
            } finally {
                plugin.deactivate();
            }
        }
    }

    @Test
    void theProbeFailsWithinItsTimeoutWhenTheSmarthostIsDown() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        SmtpForward plugin = new SmtpForward(TestConfig.of(SmtpForward.Config.class, Map.of("smtp.server", "127.0.0.1", "smtp.port", port)));
        try {
            CompletableFuture<String> probe = plugin.probe(Duration.ofSeconds(2)).toCompletableFuture();
            ExecutionException failed = assertThrows(ExecutionException.class, () -> probe.get(5, TimeUnit.SECONDS));
            assertTrue(failed.getCause().getMessage().startsWith("451 4.4.1 Cannot connect to 127.0.0.1:" + port), failed.getCause().toString());
        } finally {
            plugin.deactivate();
        }
    }
}
