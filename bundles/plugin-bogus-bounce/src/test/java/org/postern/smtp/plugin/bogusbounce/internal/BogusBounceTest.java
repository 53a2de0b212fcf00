package org.postern.smtp.plugin.bogusbounce.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.Transaction;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class BogusBounceTest {
    private static final String TOO_MANY = "fail, this bounce message does not have 1 recipient";
    private static final String RETURN_PATH = "a bounce return path must be empty (RFC 3834)";

    private final TestContext ctx = new TestContext();

    private static BogusBounce plugin(Map<String, String> options) {
        return new BogusBounce(TestConfig.of(BogusBounce.Config.class, options));
    }

    private HookResult bounceToTwo(BogusBounce plugin) {
        ctx.transaction().sender("<>").recipient("<a@example.com>").recipient("<b@example.com>");
        return plugin.onDataPost(ctx);
    }

    @Test
    void byDefaultABogusBounceIsOnlyLogged() {
        assertEquals(ReturnCode.DECLINED, bounceToTwo(plugin(Map.of())).code());
        assertEquals(List.of("INFO fail, tolerated, bogus bounce to: <a@example.com>,<b@example.com>"), ctx.logged());
    }

    @Test
    void withRejectABounceToMoreThanOneRecipientIsRefused() {
        HookResult answer = bounceToTwo(plugin(Map.of("reject", "1")));
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(List.of(TOO_MANY), answer.message());
        assertEquals(List.of("INFO fail, bogus bounce to: <a@example.com>,<b@example.com>"), ctx.logged());
    }

    @Test
    void rejectTypeChoosesTheRefusal() {
        assertEquals(ReturnCode.DENYSOFT, bounceToTwo(plugin(Map.of("reject", "1", "reject_type", "temp"))).code());
    }

    @Test
    void withRejectNaughtyTheRefusalIsLeftToTheNaughtyPlugin() {
        assertEquals(ReturnCode.DECLINED, bounceToTwo(plugin(Map.of("reject", "naughty", "reject_type", "temp"))).code());
        assertEquals(Optional.of(TOO_MANY), ctx.session().notes().get(SharedNotes.NAUGHTY));
        assertEquals(Optional.of("temp"), ctx.session().notes().get(SharedNotes.NAUGHTY_REJECT_TYPE));
    }

    @ParameterizedTest
    @ValueSource(strings = {"deny", "DENY"})
    void actionDenyRefusesHard(String action) {
        assertEquals(ReturnCode.DENY, bounceToTwo(plugin(Map.of("action", action))).code());
    }

    @Test
    void actionDenysoftRefusesTemporarily() {
        assertEquals(ReturnCode.DENYSOFT, bounceToTwo(plugin(Map.of("action", "denysoft"))).code());
    }

    @Test
    void actionDenysoftKeepsRejectNaughtyAndMakesItTemporary() {
        assertEquals(ReturnCode.DECLINED, bounceToTwo(plugin(Map.of("action", "denysoft", "reject", "naughty"))).code());
        assertEquals(Optional.of("temp"), ctx.session().notes().get(SharedNotes.NAUGHTY_REJECT_TYPE));
    }

    @ParameterizedTest
    @ValueSource(strings = {"log", "bounce"})
    void actionLogAndUnknownActionsOnlyLog(String action) {
        assertEquals(ReturnCode.DECLINED, bounceToTwo(plugin(Map.of("action", action))).code());
        assertEquals(List.of("INFO fail, tolerated, bogus bounce to: <a@example.com>,<b@example.com>"), ctx.logged());
    }

    @Test
    void mailWithASenderIsNoBounce() {
        ctx.transaction().sender("<someone@example.org>").recipient("<a@example.com>").recipient("<b@example.com>");
        assertEquals(ReturnCode.DECLINED, plugin(Map.of("reject", "1")).onDataPost(ctx).code());
        assertEquals(List.of("INFO pass, not a null sender"), ctx.logged());
    }

    @Test
    void aBounceToOneRecipientWithoutReturnPathPasses() {
        ctx.transaction().sender("<>").recipient("<a@example.com>");
        assertEquals(ReturnCode.DECLINED, plugin(Map.of("reject", "1")).onDataPost(withReturnPaths()).code());
        assertEquals(List.of("INFO pass, single recipient, empty Return-Path"), ctx.logged());
    }

    @Test
    void anEmptyReturnPathIsAllowed() {
        ctx.transaction().sender("<>").recipient("<a@example.com>");
        assertEquals(ReturnCode.DECLINED, plugin(Map.of("reject", "1")).onDataPost(withReturnPaths(" <> ")).code());
    }

    @Test
    void aBounceWithAReturnPathIsRefused() {
        ctx.transaction().sender("<>").recipient("<a@example.com>");
        HookResult answer = plugin(Map.of("reject", "1")).onDataPost(withReturnPaths("<>", "<spammer@example.net>"));
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(List.of(RETURN_PATH), answer.message());
        assertEquals(List.of("INFO fail, bounce messages must not have a Return-Path"), ctx.logged());
    }

    /** The hook's context with these Return-Path values in the header (the testkit's transaction has no header). */
    private HookContext withReturnPaths(String... values) {
        MessageHeader header = proxy(MessageHeader.class, (self, method, args) ->
                method.getName().equals("get") && "return-path".equalsIgnoreCase((String) args[0]) ? List.of(values) : List.of());
        Transaction transaction = proxy(Transaction.class, (self, method, args) ->
                method.getName().equals("header") ? Optional.of(header) : method.invoke(ctx.transaction(), args));
        return proxy(HookContext.class, (self, method, args) ->
                method.getName().equals("transaction") ? transaction : method.invoke(ctx, args));
    }

    private static <T> T proxy(Class<T> type, InvocationHandler handler) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
    }
}
