package org.postern.smtp.plugin.randomerror.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import java.util.stream.DoubleStream;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HeloContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class RandomErrorTest {
    private static final class Session extends TestContext implements HeloContext {
        @Override
        public String host() {
            return "client.example";
        }

        @Override
        public List<String> arguments() {
            return List.of();
        }

        @Override
        public void offerCapability(String capability) {
            throw new AssertionError("random_error offers no extension");
        }
    }

    /** Hands out the given numbers in order, and fails the test if the plugin draws more. */
    private static DoubleSupplier draws(double... numbers) {
        Deque<Double> left = new ArrayDeque<>(DoubleStream.of(numbers).boxed().toList());
        return () -> {
            assertFalse(left.isEmpty(), "drew more numbers than scripted");
            return left.removeFirst();
        };
    }

    private final Session session = new Session();

    private static RandomError plugin(String percent, DoubleSupplier uniform) {
        return new RandomError(TestConfig.of(RandomError.Config.class, Map.of("percent", percent)), uniform);
    }

    @Test
    void atOneHundredPerCentEveryHookFailsTwoInFiveAlsoDisconnecting() {
        HookResult soft = plugin("100", draws(0.999, 0.4)).onConnect(session);
        assertEquals(ReturnCode.DENYSOFT, soft.code());
        assertEquals(List.of("random failure"), soft.message());
        HookResult disconnect = plugin("100", draws(0.0, 0.399)).onConnect(session);
        assertEquals(ReturnCode.DENYSOFT_DISCONNECT, disconnect.code());
        assertEquals(List.of("random failure"), disconnect.message());
    }

    @Test
    void eachOfTheSixStagesOfAMessageCanFail() {
        RandomError plugin = plugin("100", () -> 0.5);
        List<Function<Session, HookResult>> hooks = List.of(plugin::onConnect, plugin::onHelo, plugin::onEhlo,
                s -> plugin.onMail(s.mail("<a@example.org>")), s -> plugin.onRcpt(s.rcpt("<b@example.org>")),
                plugin::onData, plugin::onDataPost);
        hooks.forEach(hook -> assertEquals(ReturnCode.DENYSOFT, hook.apply(session).code()));
    }

    @Test
    void zeroAndNegativeRatesFailNothing() {
        for (String percent : List.of("0", "-1", "-100")) {
            RandomError plugin = plugin(percent, draws(0.9999999));
            assertEquals(ReturnCode.DECLINED, plugin.onConnect(new Session()).code(), percent);
        }
    }

    @Test
    void eachHookPassesWithTheSixthRootOfTheMessagesPassChance() {
        double passChance = Math.pow(0.99, 1.0 / 6);
        assertEquals(ReturnCode.DECLINED, plugin("1", draws(passChance - 1e-9)).onConnect(session).code());
        assertEquals(ReturnCode.DENYSOFT, plugin("1", draws(passChance, 0.9)).onConnect(session).code());
        assertEquals("INFO to fail, rand(1) must be more than " + passChance, session.logged().get(0));
    }

    @Test
    void aboutThePercentageOfMessagesFail() {
        Random seeded = new Random(20240601);
        RandomError plugin = plugin("30", seeded::nextDouble);
        int messages = 20_000;
        long failed = IntStream.range(0, messages).filter(i -> {
            Session message = new Session();
            return plugin.onConnect(message).code() != ReturnCode.DECLINED
                    || plugin.onHelo(message).code() != ReturnCode.DECLINED
                    || plugin.onMail(message.mail("<a@example.org>")).code() != ReturnCode.DECLINED
                    || plugin.onRcpt(message.rcpt("<b@example.org>")).code() != ReturnCode.DECLINED
                    || plugin.onData(message).code() != ReturnCode.DECLINED
                    || plugin.onDataPost(message).code() != ReturnCode.DECLINED;
        }).count();
        double share = (double) failed / messages;
        assertTrue(share > 0.28 && share < 0.32, "failed share " + share);
    }

    @Test
    void connectNotesTheRateWhichOtherPluginsMayChange() {
        RandomError plugin = plugin("0", () -> 0.5);
        assertEquals(ReturnCode.DECLINED, plugin.onConnect(session).code());
        assertEquals(Optional.of(0.0), session.session().notes().get(RandomError.RATE));
        session.session().notes().put(RandomError.RATE, 100.0);
        assertEquals(ReturnCode.DENYSOFT, plugin.onMail(session.mail("<a@example.org>")).code());
    }

    @Test
    void withoutTheConnectNoteTheConfiguredRateApplies() {
        assertEquals(ReturnCode.DENYSOFT, plugin("100", () -> 0.5).onHelo(session).code());
        assertEquals(Optional.empty(), session.session().notes().get(RandomError.RATE));
    }

    @Test
    void anUnusableRateMeansOnePerCent() {
        double passChance = Math.pow(0.99, 1.0 / 6);
        for (String percent : List.of("lots", "NaN", "Infinity", " ")) {
            Session fresh = new Session();
            plugin(percent, draws(0.0)).onConnect(fresh);
            assertEquals(Optional.of(1.0), fresh.session().notes().get(RandomError.RATE), percent);
            assertEquals("INFO to fail, rand(1) must be more than " + passChance, fresh.logged().get(0), percent);
        }
    }
}
