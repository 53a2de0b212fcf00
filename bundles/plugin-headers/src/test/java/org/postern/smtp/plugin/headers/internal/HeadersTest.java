package org.postern.smtp.plugin.headers.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.Transaction;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class HeadersTest {
    private static final Clock NOW = Clock.fixed(Instant.parse("2024-03-10T12:00:00Z"), ZoneOffset.UTC);
    private static final String FROM = "From: Alice <alice@example.org>";
    private static final String RECENT = "Date: Sun, 10 Mar 2024 11:00:00 +0000";

    private final TestContext ctx = new TestContext();

    private static Headers headers(Map<String, ?> config) {
        return new Headers(TestConfig.of(Headers.Config.class, config), NOW);
    }

    @Test
    void aCompleteHeaderPasses() {
        HookResult result = headers(Map.of()).onDataPost(message(FROM, RECENT, "Subject: hello", "To: b@example.org"));
        assertEquals(ReturnCode.DECLINED, result.code());
        assertEquals(List.of("INFO pass"), ctx.logged());
    }

    @Test
    void requiresFromByDefaultAndAnEmptyValueIsMissing() {
        for (HookContext missing : List.of(message("Subject: hello"), message("From:   ", "Subject: hello"))) {
            HookResult result = headers(Map.of()).onDataPost(missing);
            assertEquals(ReturnCode.DENY, result.code());
            assertEquals(List.of("We require a valid From header"), result.message());
        }
        assertEquals(-2, ctx.session().notes().get(SharedNotes.KARMA).orElseThrow());
        assertTrue(ctx.logged().contains("INFO fail, no From header"), ctx.logged().toString());
        assertTrue(ctx.logged().contains("INFO fail, RFC 5322 validation errors"), ctx.logged().toString());
    }

    @Test
    void requireTakesACommaSeparatedList() {
        Headers plugin = headers(Map.of("require", new String[] {"From, Date,Message-ID"}));
        assertEquals(List.of("We require a valid Date header", "We require a valid Message-ID header"),
                plugin.onDataPost(message(FROM)).message());
        assertEquals(ReturnCode.DECLINED, plugin.onDataPost(message(FROM, RECENT, "Message-ID: <1@example.org>")).code());
    }

    @Test
    void eachSingularHeaderMayAppearOnce() {
        HookResult result = headers(Map.of()).onDataPost(message(FROM, "Subject: one", "subject: two", "Message-Id: <1@a>",
                "MESSAGE-ID: <2@a>", "Received: from a", "Received: from b"));
        assertEquals(ReturnCode.DENY, result.code());
        assertEquals(List.of("Only one Message-Id header allowed. See RFC 5322, Section 3.6",
                "Only one Subject header allowed. See RFC 5322, Section 3.6"), result.message());
        assertEquals(-2, ctx.session().notes().get(SharedNotes.KARMA).orElseThrow());
    }

    @Test
    void anEmptyMessageIsRefusedEvenForImmuneClients() {
        ctx.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        HookResult result = headers(Map.of("reject_type", "temp")).onDataPost(ctx);
        assertEquals(ReturnCode.DENYSOFT, result.code());
        assertEquals(List.of("You must send some data first"), result.message());
    }

    @Test
    void aMessageWithoutParsedHeaderIsRefused() {
        ctx.transaction().message("just a body\r\n");
        HookResult result = headers(Map.of()).onDataPost(ctx);
        assertEquals(ReturnCode.DENY, result.code());
        assertEquals(List.of("Headers are missing"), result.message());
    }

    @Test
    void immuneClientsSkipTheHeaderTests() {
        ctx.session().notes().put(SharedNotes.WHITELIST_HOST, true);
        assertEquals(ReturnCode.DECLINED, headers(Map.of()).onDataPost(message("Subject: a", "Subject: b")).code());
        assertEquals(List.of("INFO skip, whitelisted host"), ctx.logged());
    }

    @Test
    void theDateIsTestedOnlyAgainstTheLimitsGiven() {
        String old = "Date: Mon, 4 Mar 2024 11:00:00 +0000";
        String tomorrow = "Date: Mon, 11 Mar 2024 13:00:00 +0000";
        assertEquals(ReturnCode.DECLINED, headers(Map.of()).onDataPost(message(FROM, old)).code());
        assertEquals(ReturnCode.DECLINED, headers(Map.of()).onDataPost(message(FROM, tomorrow)).code());

        Headers limited = headers(Map.of("past", 5.0, "future", 1.0));
        assertEquals(List.of("The Date header is too far in the past"), limited.onDataPost(message(FROM, old)).message());
        assertEquals(List.of("The Date header is too far in the future"), limited.onDataPost(message(FROM, tomorrow)).message());
        assertEquals(ReturnCode.DECLINED, limited.onDataPost(message(FROM, "Date: Tue, 5 Mar 2024 13:00:00 +0000")).code());
        assertEquals(ReturnCode.DECLINED, headers(Map.of("past", 0.25)).onDataPost(message(FROM, RECENT)).code());
        assertEquals(ReturnCode.DENY, headers(Map.of("past", 0.01)).onDataPost(message(FROM, RECENT)).code());
        assertTrue(ctx.logged().contains("INFO fail, date in future (Mon, 11 Mar 2024 13:00:00 +0000)"), ctx.logged().toString());
    }

    @Test
    void aDateProblemIsTheReplyEvenWhenOtherHeadersFail() {
        HookResult result = headers(Map.of("past", 1.0)).onDataPost(message("Date: 1 Jan 2001 00:00 GMT", "To: a", "To: b"));
        assertEquals(List.of("The Date header is too far in the past"), result.message());
        assertEquals(-3, ctx.session().notes().get(SharedNotes.KARMA).orElseThrow());
    }

    @Test
    void anUnreadableDateIsNotTested() {
        HookResult result = headers(Map.of("past", 1.0, "future", 1.0)).onDataPost(message(FROM, "Date: last Tuesday"));
        assertEquals(ReturnCode.DECLINED, result.code());
        assertEquals(List.of("INFO skip, date not parseable (last Tuesday)", "INFO pass"), ctx.logged());
    }

    @Test
    void rejectAndRejectTypeDecideWhatAFailureDoes() {
        assertEquals(ReturnCode.DECLINED, headers(Map.of("reject", "0")).onDataPost(message("Subject: a")).code());
        assertTrue(ctx.logged().contains("INFO fail, tolerated, RFC 5322 validation errors"), ctx.logged().toString());
        assertEquals(ReturnCode.DENYSOFT, headers(Map.of("reject_type", "temp")).onDataPost(message("Subject: a")).code());
        assertEquals(ReturnCode.DENY_DISCONNECT, headers(Map.of("reject_type", "disconnect")).onDataPost(message("Subject: a")).code());
        assertEquals(ctx.session().notes().get(SharedNotes.NAUGHTY), Optional.empty());
    }

    @Test
    void rejectNaughtyLeavesEveryProblemToTheNaughtyPlugin() {
        Headers plugin = headers(Map.of("reject", "naughty", "reject_type", "temp"));
        assertEquals(ReturnCode.DECLINED, plugin.onDataPost(message("Subject: a", "Subject: b")).code());
        assertEquals(Optional.of("We require a valid From header\r\nOnly one Subject header allowed. See RFC 5322, Section 3.6"),
                ctx.session().notes().get(SharedNotes.NAUGHTY));
        assertEquals(Optional.of("temp"), ctx.session().notes().get(SharedNotes.NAUGHTY_REJECT_TYPE));
    }

    /**
     * The hook's context for a message with these header lines (the testkit's transaction has no parsed header):
     * the testkit's session, notes and log, the size of the whole message, and the header as the core parses it.
     */
    private HookContext message(String... headerLines) {
        ctx.transaction().message(String.join("\r\n", headerLines) + "\r\n\r\nbody\r\n");
        List<HeaderField> fields = java.util.Arrays.stream(headerLines)
                .map(line -> new HeaderField(line.substring(0, line.indexOf(':')), line.substring(line.indexOf(':') + 1))).toList();
        MessageHeader header = proxy(MessageHeader.class, (self, method, args) -> fields.stream()
                .filter(field -> method.getName().equals("get") && field.name().equalsIgnoreCase((String) args[0]))
                .map(HeaderField::unfoldedValue).toList());
        Transaction transaction = proxy(Transaction.class, (self, method, args) ->
                method.getName().equals("header") ? Optional.of(header) : method.invoke(ctx.transaction(), args));
        return proxy(HookContext.class, (self, method, args) ->
                method.getName().equals("transaction") ? transaction : method.invoke(ctx, args));
    }

    private static <T> T proxy(Class<T> type, InvocationHandler handler) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
    }
}
