package org.postern.smtp.plugin.loop.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.Transaction;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class LoopTest {
    private final TestContext ctx = new TestContext();

    private static Loop loop(Map<String, ?> config) {
        return new Loop(TestConfig.of(Loop.Config.class, config));
    }

    @Test
    void refusesAtMaxHopsCountingReceivedAndDeliveredToLines() {
        Loop plugin = loop(Map.of("max_hops", 5));
        assertEquals(ReturnCode.DECLINED, plugin.onDataPost(withHops(3, 1)).code());

        HookResult looping = plugin.onDataPost(withHops(3, 2));
        assertEquals(ReturnCode.DENY, looping.code());
        assertEquals(List.of("Too many hops"), looping.message());
        assertEquals(Optional.of("5.4.6"), looping.enhancedStatus());
        assertEquals(List.of("INFO fail, 5 hops (max_hops 5)"), ctx.logged());
    }

    @Test
    void defaultsToQmailsHundredHops() {
        Loop plugin = loop(Map.of());
        assertEquals(ReturnCode.DECLINED, plugin.onDataPost(withHops(99, 0)).code());
        assertEquals(ReturnCode.DENY, plugin.onDataPost(withHops(100, 0)).code());
    }

    @Test
    void anInvalidMaximumMeansTheDefault() {
        Loop plugin = loop(Map.of("max_hops", 0));
        assertEquals(ReturnCode.DECLINED, plugin.onDataPost(withHops(50, 49)).code());
        assertEquals(ReturnCode.DENY, plugin.onDataPost(withHops(50, 50)).code());
    }

    /** The hook's context with a header of so many Received and Delivered-To lines (the testkit's has no header). */
    private HookContext withHops(int received, int deliveredTo) {
        List<String> names = new ArrayList<>(Collections.nCopies(received, "Received"));
        names.addAll(Collections.nCopies(deliveredTo, "delivered-to"));
        names.add("Subject");
        MessageHeader header = proxy(MessageHeader.class, (self, method, args) -> names.stream()
                .filter(name -> method.getName().equals("get") && name.equalsIgnoreCase((String) args[0])).map(name -> "a value").toList());
        Transaction transaction = proxy(Transaction.class, (self, method, args) ->
                method.getName().equals("header") ? Optional.of(header) : method.invoke(ctx.transaction(), args));
        return proxy(HookContext.class, (self, method, args) ->
                method.getName().equals("transaction") ? transaction : method.invoke(ctx, args));
    }

    private static <T> T proxy(Class<T> type, InvocationHandler handler) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
    }
}
