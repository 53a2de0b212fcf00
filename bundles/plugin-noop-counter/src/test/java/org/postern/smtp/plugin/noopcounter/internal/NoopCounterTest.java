package org.postern.smtp.plugin.noopcounter.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.CommandContext;
import org.postern.smtp.api.HeloContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class NoopCounterTest {
    /** One session, as each of the plugin's hooks sees it. */
    private static final class Session extends TestContext implements CommandContext, HeloContext {
        @Override
        public String command() {
            return "noop";
        }

        @Override
        public List<String> arguments() {
            return List.of();
        }

        @Override
        public String host() {
            return "client.example";
        }

        @Override
        public void offerCapability(String capability) {
            throw new AssertionError("noop_counter offers no extension");
        }
    }

    private final Session session = new Session();

    private static NoopCounter plugin(Map<String, Object> options) {
        return new NoopCounter(TestConfig.of(NoopCounter.Config.class, options));
    }

    private static List<ReturnCode> noops(NoopCounter plugin, Session session, int times) {
        return IntStream.range(0, times).mapToObj(i -> plugin.onNoop(session).code()).toList();
    }

    @Test
    void theThirdConsecutiveNoopClosesTheConnectionByDefault() {
        NoopCounter plugin = plugin(Map.of());
        assertEquals(List.of(ReturnCode.DECLINED, ReturnCode.DECLINED), noops(plugin, session, 2));
        HookResult third = plugin.onNoop(session);
        assertEquals(ReturnCode.DENY_DISCONNECT, third.code());
        assertEquals(List.of("Stop wasting my time, too many consecutive NOOPs"), third.message());
        assertEquals(List.of("INFO fail, 3 consecutive NOOPs"), session.logged());
    }

    @Test
    void maxNoopIsConfigurable() {
        assertEquals(List.of(ReturnCode.DECLINED, ReturnCode.DECLINED, ReturnCode.DECLINED, ReturnCode.DENY_DISCONNECT),
                noops(plugin(Map.of("max_noop", 4)), session, 4));
        assertEquals(List.of(ReturnCode.DENY_DISCONNECT), noops(plugin(Map.of("max_noop", 1)), new Session(), 1));
    }

    @Test
    void aMaxNoopBelowOneMeansTheDefault() {
        assertEquals(List.of(ReturnCode.DECLINED, ReturnCode.DECLINED, ReturnCode.DENY_DISCONNECT),
                noops(plugin(Map.of("max_noop", 0)), session, 3));
    }

    @Test
    void eachCommandQpsmtpdBindsStartsTheCountAfresh() {
        NoopCounter plugin = plugin(Map.of());
        Map<String, Consumer<Session>> commands = Map.of(
                "helo", plugin::onHelo,
                "ehlo", plugin::onEhlo,
                "mail", s -> assertEquals(ReturnCode.DECLINED, plugin.onMail(s.mail("<a@example.org>")).code()),
                "rcpt", s -> assertEquals(ReturnCode.DECLINED, plugin.onRcpt(s.rcpt("<b@example.org>")).code()),
                "data", plugin::onData,
                "rset", plugin::onResetTransaction,
                "vrfy", plugin::onVrfy,
                "help", plugin::onHelp);
        commands.forEach((command, hook) -> {
            Session fresh = new Session();
            noops(plugin, fresh, 2);
            hook.accept(fresh);
            assertEquals(List.of(ReturnCode.DECLINED, ReturnCode.DECLINED, ReturnCode.DENY_DISCONNECT),
                    noops(plugin, fresh, 3), "after " + command);
        });
    }

    @Test
    void theResettingHooksDecideNothing() {
        NoopCounter plugin = plugin(Map.of());
        assertEquals(ReturnCode.DECLINED, plugin.onHelo(session).code());
        assertEquals(ReturnCode.DECLINED, plugin.onEhlo(session).code());
        assertEquals(ReturnCode.DECLINED, plugin.onData(session).code());
        assertEquals(ReturnCode.DECLINED, plugin.onResetTransaction(session).code());
        assertEquals(ReturnCode.DECLINED, plugin.onVrfy(session).code());
        assertEquals(ReturnCode.DECLINED, plugin.onHelp(session).code());
    }

    @Test
    void eachSessionCountsItsOwnNoops() {
        NoopCounter plugin = plugin(Map.of("max_noop", 2));
        plugin.onNoop(session);
        assertEquals(ReturnCode.DECLINED, plugin.onNoop(new Session()).code());
        assertEquals(ReturnCode.DENY_DISCONNECT, plugin.onNoop(session).code());
    }
}
