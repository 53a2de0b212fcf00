package org.postern.smtp.plugin.rspamd.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class RspamdTest {
    private static final String MESSAGE = "From: a@example.org\r\nSubject: hello\r\nX-Spam-Status: Yes, forged\r\n\r\n"
            + "Shall we have lunch on Friday?\r\n";
    private static final String HAM = "{\"action\":\"no action\",\"score\":0.4,\"required_score\":15,\"symbols\":{\"MID_RHS_NOT_FQDN\":"
            + "{\"name\":\"MID_RHS_NOT_FQDN\",\"score\":0.5},\"MIME_GOOD\":{\"name\":\"MIME_GOOD\",\"score\":-0.1}},\"messages\":{}}";

    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable resource : opened) {
            resource.close();
        }
    }

    private FakeRspamd rspamd(String json) throws Exception {
        FakeRspamd rspamd = FakeRspamd.answering(json);
        opened.add(rspamd);
        return rspamd;
    }

    /** An answer with this action and score, and whatever else is given as more JSON members. */
    private FakeRspamd rspamd(String action, double score, String more) throws Exception {
        return rspamd("{\"action\":\"" + action + "\",\"score\":" + score + ",\"required_score\":15,\"symbols\":{\"POSTERN\":"
                + "{\"name\":\"POSTERN\",\"score\":" + score + "}}" + (more.isEmpty() ? "" : "," + more) + "}");
    }

    private Rspamd plugin(int port, Object... keysAndValues) {
        Map<String, Object> config = new HashMap<>();
        config.put("host", "127.0.0.1");
        config.put("port", port);
        for (int i = 0; i < keysAndValues.length; i += 2) {
            config.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        Rspamd plugin = new Rspamd(TestConfig.of(Rspamd.Config.class, config));
        opened.add(plugin::deactivate);
        return plugin;
    }

    private static HookResult scan(Rspamd plugin, TestContext ctx) {
        return HookResults.settled(plugin.onDataPost(ctx));
    }

    private static List<String> values(TestContext ctx, String name) {
        return ctx.transaction().header().orElseThrow().get(name);
    }

    private static List<String> names(TestContext ctx) {
        return ctx.transaction().header().orElseThrow().fields().stream().map(HeaderField::name).toList();
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Test
    void sendsTheEnvelopeAndTheClientAsRspamdsRequestHeadersAndTheMessageAsTheBody() throws Exception {
        FakeRspamd rspamd = rspamd(HAM);
        TestContext ctx = TestContext.forMessage(MESSAGE, "<b@example.org>", "<c@example.org>");
        ctx.transaction().id("s1.1");
        ctx.session().remote("198.51.100.7", 40000).remoteHost("mx.example.net").helo("helo.example.net").authenticated("alice");
        assertEquals(ReturnCode.DECLINED, scan(plugin(rspamd.port(), "check.authenticated", true), ctx).code());
        Map<String, List<String>> headers = rspamd.headers();
        assertEquals(List.of("198.51.100.7"), headers.get("IP"));
        assertEquals(List.of("mx.example.net"), headers.get("Hostname"));
        assertEquals(List.of("helo.example.net"), headers.get("Helo"));
        assertEquals(List.of("a@example.org"), headers.get("From"));
        assertEquals(List.of("b@example.org", "c@example.org"), headers.get("Rcpt"));
        assertEquals(null, headers.get("Deliver-To"));
        assertEquals(List.of("s1.1"), headers.get("Queue-Id"));
        assertEquals(List.of("alice"), headers.get("User"));
        assertEquals(null, headers.get("Pass"));
        assertArrayEquals(MESSAGE.getBytes(StandardCharsets.ISO_8859_1), rspamd.body());
    }

    @Test
    void aClientWithoutReverseDnsIsUnknownAndOneRecipientIsAlsoDeliverToAndSettingsIdIsSentWhenSet() throws Exception {
        FakeRspamd rspamd = rspamd(HAM);
        TestContext ctx = TestContext.forMessage(MESSAGE);
        ctx.transaction().sender("<>");
        scan(plugin(rspamd.port(), "request.settings_id", "inbound"), ctx);
        assertEquals(List.of("unknown"), rspamd.headers().get("Hostname"));
        assertEquals(List.of("<>"), rspamd.headers().get("From"));
        assertEquals(List.of("b@example.org"), rspamd.headers().get("Deliver-To"));
        assertEquals(List.of("inbound"), rspamd.headers().get("Settings-ID"));
        assertEquals(null, rspamd.headers().get("User"));
    }

    @Test
    void noActionPassesWithRspamdsMilterFieldsButWithoutTheSpamFields() throws Exception {
        FakeRspamd rspamd = rspamd("no action", 0.4, "\"milter\":{\"remove_headers\":{\"X-Spam-Status\":0},"
                + "\"add_headers\":{\"X-Spam-Status\":{\"order\":-1,\"value\":\"No, score=0.40\"},\"Authentication-Results\":"
                + "{\"order\":0,\"value\":\"mx.example; none\"}}}");
        TestContext ctx = TestContext.forMessage(MESSAGE);
        assertEquals(ReturnCode.DECLINED, scan(plugin(rspamd.port()), ctx).code());
        assertEquals(List.of("Authentication-Results", "From", "Subject", "X-Spam-Status"), names(ctx));
        assertEquals(List.of("No, score=0.40"), values(ctx, "X-Spam-Status"));
        assertTrue(ctx.logged().contains("INFO pass, no action, score 0.4 / 15"), ctx.logged().toString());
    }

    @Test
    void addHeaderGetsScoreBarAndReportReplacingThoseTheMessageCameWith() throws Exception {
        FakeRspamd rspamd = rspamd("add header", 7.5, "");
        TestContext ctx = TestContext.forMessage("From: a@example.org\r\nX-Rspamd-Score: -100\r\nSubject: hello\r\n\r\nHi\r\n");
        assertEquals(ReturnCode.DECLINED, scan(plugin(rspamd.port()), ctx).code());
        assertEquals(List.of("7.5"), values(ctx, "X-Rspamd-Score"));
        assertEquals(List.of("+++++++"), values(ctx, "X-Rspamd-Bar"));
        assertEquals(List.of("POSTERN(7.5)"), values(ctx, "X-Rspamd-Report"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"always", "never", "sometimes"})
    void addHeadersSaysWhenTheSpamFieldsAreWritten(String addHeaders) throws Exception {
        FakeRspamd rspamd = rspamd(HAM);
        TestContext ctx = TestContext.forMessage(MESSAGE);
        scan(plugin(rspamd.port(), "add_headers", Rspamd.AddHeaders.valueOf(addHeaders), "header.bar", ""), ctx);
        assertEquals(addHeaders.equals("always") ? List.of("0.4") : List.of(), values(ctx, "X-Rspamd-Score"));
        assertEquals(addHeaders.equals("always") ? List.of("MID_RHS_NOT_FQDN(0.5) MIME_GOOD(-0.1)") : List.of(),
                values(ctx, "X-Rspamd-Report"));
        assertEquals(List.of(), values(ctx, "X-Rspamd-Bar"));
    }

    @Test
    void rewriteSubjectTakesRspamdsSubjectOrTheConfiguredOne() throws Exception {
        TestContext given = TestContext.forMessage(MESSAGE);
        scan(plugin(rspamd("rewrite subject", 10, "\"subject\":\"***SPAM*** hello\"").port()), given);
        assertEquals(List.of("***SPAM*** hello"), values(given, "Subject"));
        assertEquals(List.of("10"), values(given, "X-Rspamd-Score"));
        TestContext configured = TestContext.forMessage(MESSAGE);
        scan(plugin(rspamd("rewrite subject", 10, "").port(), "subject", "[spam, says rspamd] %s"), configured);
        assertEquals(List.of("[spam, says rspamd] hello"), values(configured, "Subject"));
        TestContext disabled = TestContext.forMessage(MESSAGE);
        scan(plugin(rspamd("rewrite subject", 10, "").port(), "rewrite_subject.enabled", false), disabled);
        assertEquals(List.of("hello"), values(disabled, "Subject"));
    }

    @Test
    void rspamdsDkimSignatureGoesToTheTopWithItsFoldingAsCrlf() throws Exception {
        FakeRspamd rspamd = rspamd("no action", 0, "\"dkim-signature\":\"v=1; a=rsa-sha256; d=example.org;\\n\\tb=abc\"");
        TestContext ctx = TestContext.forMessage(MESSAGE);
        scan(plugin(rspamd.port()), ctx);
        HeaderField first = ctx.transaction().header().orElseThrow().fields().get(0);
        assertEquals(new HeaderField("DKIM-Signature", " v=1; a=rsa-sha256; d=example.org;\r\n\tb=abc"), first);
        TestContext without = TestContext.forMessage(MESSAGE);
        scan(plugin(rspamd.port(), "dkim.enabled", false), without);
        assertEquals(List.of(), values(without, "DKIM-Signature"));
    }

    @Test
    void rejectIsRefusedWith550AndRspamdsMessageOrTheConfiguredOne() throws Exception {
        HookResult rspamds = scan(plugin(rspamd("reject", 15, "\"messages\":{\"smtp_message\":\"Gtube pattern\"}").port()), TestContext.forMessage(MESSAGE));
        assertEquals("DENY 550 5.7.1 Gtube pattern", rspamds.toString());
        HookResult configured = scan(plugin(rspamd("reject", 15, "").port(), "reject.message", "No spam here"), TestContext.forMessage(MESSAGE));
        assertEquals("DENY 550 5.7.1 No spam here", configured.toString());
        HookResult ownText = scan(plugin(rspamd("reject", 15, "\"messages\":{\"smtp_message\":\"Gtube pattern\"}").port(),
                "smtp_message.enabled", false), TestContext.forMessage(MESSAGE));
        assertEquals("DENY 550 5.7.1 Detected as spam", ownText.toString());
    }

    @Test
    void aRejectThatIsLetThroughGetsTheSpamFields() throws Exception {
        TestContext ctx = TestContext.forMessage(MESSAGE);
        HookResult result = scan(plugin(rspamd("reject", 16, "").port(), "reject.spam", false), ctx);
        assertEquals(ReturnCode.DECLINED, result.code());
        assertEquals(List.of("16"), values(ctx, "X-Rspamd-Score"));
        TestContext authenticated = TestContext.forMessage(MESSAGE);
        authenticated.session().authenticated("alice");
        FakeRspamd rspamd = rspamd("reject", 16, "");
        assertEquals(ReturnCode.DECLINED, scan(plugin(rspamd.port(), "check.authenticated", true), authenticated).code());
        assertEquals("DENY 550 5.7.1 Detected as spam", scan(plugin(rspamd.port(), "check.authenticated", true,
                "reject.authenticated", true), authenticated).toString());
    }

    @Test
    void softRejectAndGreylistAreDeferredWith451UnlessDisabled() throws Exception {
        String message = "\"messages\":{\"smtp_message\":\"Try again later\"}";
        assertEquals("DENYSOFT 451 4.7.1 Try again later", scan(plugin(rspamd("soft reject", 0, message).port()), TestContext.forMessage(MESSAGE)).toString());
        assertEquals("DENYSOFT 451 4.7.1 Deferred by policy", scan(plugin(rspamd("soft reject", 0, "").port()), TestContext.forMessage(MESSAGE)).toString());
        assertEquals(ReturnCode.DECLINED, scan(plugin(rspamd("soft reject", 0, "").port(), "soft_reject.enabled", false), TestContext.forMessage(MESSAGE)).code());
        assertEquals("DENYSOFT 451 4.7.1 Greylisted", scan(plugin(rspamd("greylist", 5, "").port(), "greylist.message", "Greylisted"),
                TestContext.forMessage(MESSAGE)).toString());
        TestContext passed = TestContext.forMessage(MESSAGE);
        assertEquals(ReturnCode.DECLINED, scan(plugin(rspamd("greylist", 5, "").port(), "greylist.enabled", false), passed).code());
        assertEquals(List.of(), values(passed, "X-Rspamd-Score"));
    }

    @Test
    void rspamdDownPassesMarkedOrIsDeferredByDeferError() throws Exception {
        int port = closedPort();
        TestContext passed = TestContext.forMessage(MESSAGE);
        assertEquals(ReturnCode.DECLINED, scan(plugin(port), passed).code());
        assertEquals(List.of("not scanned, connection refused"), values(passed, "X-Rspamd-Error"));
        assertTrue(passed.logged().contains("WARN rspamd at 127.0.0.1:" + port + " failed: connection refused; passed unscanned"),
                passed.logged().toString());
        TestContext deferred = TestContext.forMessage(MESSAGE);
        assertEquals("DENYSOFT 451 4.3.0 Rspamd scan error", scan(plugin(port, "defer.error", true), deferred).toString());
        assertEquals(List.of(), values(deferred, "X-Rspamd-Error"));
    }

    @Test
    void aSlowRspamdTimesOutWithinTimeoutAndDeferTimeoutDecides() throws Exception {
        FakeRspamd rspamd = rspamd(HAM).delay(10_000);
        long start = System.nanoTime();
        TestContext passed = TestContext.forMessage(MESSAGE);
        assertEquals(ReturnCode.DECLINED, scan(plugin(rspamd.port(), "timeout", 1), passed).code());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5));
        assertEquals(List.of("not scanned, no answer within 1000 ms"), values(passed, "X-Rspamd-Error"));
        assertEquals("DENYSOFT 451 4.3.0 Rspamd scan timeout",
                scan(plugin(rspamd.port(), "timeout", 1, "defer.timeout", true, "defer.error", false), TestContext.forMessage(MESSAGE)).toString());
    }

    @Test
    void anAnswerThatIsNotRspamdsIsAnError() throws Exception {
        TestContext garbage = TestContext.forMessage(MESSAGE);
        assertEquals("DENYSOFT 451 4.3.0 Rspamd scan error", scan(plugin(rspamd("<html>oops</html>").port(), "defer.error", true), garbage).toString());
        assertTrue(garbage.logged().stream().anyMatch(line -> line.startsWith("WARN rspamd at ") && line.contains("failed: not JSON: <html>oops</html>; deferred")),
                garbage.logged().toString());
        TestContext status = TestContext.forMessage(MESSAGE);
        scan(plugin(rspamd("{\"error\":\"busy\"}").status(500).port()), status);
        assertEquals(List.of("not scanned, rspamd answered HTTP 500: {\"error\":\"busy\"}"), values(status, "X-Rspamd-Error"));
        TestContext huge = TestContext.forMessage(MESSAGE);
        scan(plugin(rspamd("").answer(new byte[RspamdClient.MAX_ANSWER + 1]).port()), huge);
        assertEquals(1, values(huge, "X-Rspamd-Error").size());
        assertTrue(values(huge, "X-Rspamd-Error").get(0).contains("answer longer than"), values(huge, "X-Rspamd-Error").toString());
    }

    @Test
    void authenticatedRelayLocalAndPrivateClientsAreSkippedAsHarakaDoes() throws Exception {
        FakeRspamd rspamd = rspamd("reject", 20, "");
        Rspamd plugin = plugin(rspamd.port());
        TestContext authenticated = TestContext.forMessage(MESSAGE);
        authenticated.session().authenticated("alice");
        TestContext relay = TestContext.forMessage(MESSAGE);
        relay.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        TestContext local = TestContext.forMessage(MESSAGE);
        local.session().remote("127.0.0.1", 40000);
        TestContext privateIp = TestContext.forMessage(MESSAGE);
        privateIp.session().remote("10.1.2.3", 40000);
        TestContext uniqueLocal = TestContext.forMessage(MESSAGE);
        uniqueLocal.session().remote("fd00::1", 40000);
        for (TestContext ctx : List.of(authenticated, relay, local, privateIp, uniqueLocal)) {
            assertEquals(ReturnCode.DECLINED, scan(plugin, ctx).code());
        }
        assertTrue(local.logged().contains("INFO skip, local_ip"), local.logged().toString());
        assertTrue(uniqueLocal.logged().contains("INFO skip, private_ip"), uniqueLocal.logged().toString());
        assertEquals("DENY 550 5.7.1 Detected as spam", scan(plugin(rspamd.port(), "check.local_ip", true), local).toString());
        assertEquals("DENY 550 5.7.1 Detected as spam", scan(plugin(rspamd.port(), "check.private_ip", true), privateIp).toString());
        assertEquals("DENY 550 5.7.1 Detected as spam", scan(plugin(rspamd.port(), "check.relay", true), relay).toString());
        assertEquals("DENY 550 5.7.1 Detected as spam", scan(plugin, TestContext.forMessage(MESSAGE)).toString());
    }

    @Test
    void aMessageOverMaxSizeIsNotSent() throws Exception {
        FakeRspamd rspamd = rspamd("reject", 20, "");
        TestContext ctx = TestContext.forMessage(MESSAGE);
        assertEquals(ReturnCode.DECLINED, scan(plugin(rspamd.port(), "max.size", 10L), ctx).code());
        assertEquals(0, rspamd.body().length);
        assertTrue(ctx.logged().contains("INFO skip, too large (" + MESSAGE.length() + " > max.size 10)"), ctx.logged().toString());
    }

    @Test
    void aTimeoutBeyondTheHookTimeoutIsShortenedToFit() throws Exception {
        FakeRspamd rspamd = rspamd(HAM).delay(10_000);
        TestContext ctx = TestContext.forMessage(MESSAGE);
        scan(plugin(rspamd.port(), "timeout", 60, "postern.hook.timeout", 2), ctx);
        assertEquals(List.of("not scanned, no answer within 1000 ms"), values(ctx, "X-Rspamd-Error"));
    }

    @Test
    void aTimeoutThatIsNotPositiveIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> plugin(11333, "timeout", 0));
    }

    @Test
    void thePeerCheckWantsPong() throws Exception {
        FakeRspamd rspamd = rspamd(HAM);
        Rspamd plugin = plugin(rspamd.port());
        assertEquals("rspamd 127.0.0.1:" + rspamd.port(), plugin.peer());
        assertEquals("pong", plugin.probe(Duration.ofSeconds(2)).toCompletableFuture().get(5, TimeUnit.SECONDS));
        rspamd.pong("PONG?");
        ExecutionException wrong = assertThrows(ExecutionException.class,
                () -> plugin.probe(Duration.ofSeconds(2)).toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertEquals("rspamd answered HTTP 200: PONG?", wrong.getCause().getMessage());
        Rspamd down = plugin(closedPort());
        assertThrows(ExecutionException.class,
                () -> down.probe(Duration.ofSeconds(2)).toCompletableFuture().get(5, TimeUnit.SECONDS));
    }
}
