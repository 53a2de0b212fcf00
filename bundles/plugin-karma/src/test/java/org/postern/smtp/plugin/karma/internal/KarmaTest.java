package org.postern.smtp.plugin.karma.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ParseContext;
import org.postern.smtp.api.PreConnectionContext;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestClock;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;
import org.postern.smtp.testkit.TestStateStore;

class KarmaTest {
    private static final String CLIENT = "192.0.2.7";
    private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
    private static final String ONE_DAY_LEFT = "You were naughty. You cannot connect for 1.00 more days.";

    private final TestClock clock = new TestClock(START);
    private final TestStateStore store = new TestStateStore(clock);

    /** One connection of the client: its context is shared by every hook, as the core's session is. */
    private static final class Connection extends TestContext implements PreConnectionContext {
        Connection() {
            session().remote(CLIENT, 40000);
        }

        @Override
        public int connectionsFromRemoteIp() {
            return 1;
        }

        @Override
        public int connections() {
            return 1;
        }

        ParseContext parse(String command, String line) {
            Connection connection = this;
            return new ParseContext() {
                @Override
                public String command() {
                    return command;
                }

                @Override
                public String line() {
                    return line;
                }

                @Override
                public org.postern.smtp.testkit.TestSession session() {
                    return connection.session();
                }

                @Override
                public org.postern.smtp.testkit.TestTransaction transaction() {
                    return connection.transaction();
                }

                @Override
                public List<String> config(String item) {
                    return connection.config(item);
                }

                @Override
                public List<String> userConfig(org.postern.smtp.api.Address user, String item) {
                    return connection.userConfig(user, item);
                }

                @Override
                public void log(org.postern.smtp.api.LogLevel level, String message) {
                    connection.log(level, message);
                }

                @Override
                public boolean commit() {
                    return true;
                }

                @Override
                public org.postern.smtp.testkit.TestClient client() {
                    return connection.client();
                }
            };
        }

        int karma() {
            return session().notes().get(SharedNotes.KARMA).orElse(0);
        }

        Optional<Integer> history() {
            return session().notes().get(SharedNotes.KARMA_HISTORY);
        }
    }

    private Karma plugin(Map<String, Object> options) {
        return new Karma(TestConfig.of(Karma.Config.class, options), options, store, clock);
    }

    /** pre_connection then connect, as the core runs them; the connect answer. */
    private static HookResult connect(Karma plugin, Connection connection) {
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onPreConnection(connection)).code());
        return HookResults.settled(plugin.onConnect(connection));
    }

    /** A whole session whose other plugins left the session's karma at {@code karma}. */
    private Connection session(Karma plugin, int karma) {
        Connection connection = new Connection();
        connect(plugin, connection);
        connection.session().notes().put(SharedNotes.KARMA, karma);
        HookResults.settled(plugin.onDisconnect(connection));
        return connection;
    }

    private long count(String field) {
        return store.value("karma:" + CLIENT + ":" + field).map(Long::parseLong).orElse(0L);
    }

    @Test
    void anUnknownClientPassesWithAHistoryOfZero() {
        Connection connection = new Connection();
        HookResult answer = connect(plugin(Map.of("reject", "connect")), connection);
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertEquals(Optional.of(0), connection.history());
        assertEquals(0, connection.karma());
        assertTrue(connection.logged().contains("INFO pass, no record"), connection.logged().toString());
    }

    @Test
    void aNaughtySessionSendsANewClientToThePenaltyBoxWhichRefusesItAtConnect() {
        Karma plugin = plugin(Map.of("reject", "connect"));
        Connection naughty = session(plugin, -3);
        assertTrue(naughty.logged().contains("INFO negative, sent to penalty box, (msg: -3, his: -1)"),
                naughty.logged().toString());
        assertEquals(1, count("naughty"));
        assertEquals(1, count("connects"));
        assertEquals(Optional.of(Long.toString(START.getEpochSecond())), store.value("karma:" + CLIENT + ":" + "penalty"));

        clock.advance(Duration.ofMinutes(1));
        Connection again = new Connection();
        HookResult answer = connect(plugin, again);
        assertEquals(ReturnCode.DENY_DISCONNECT, answer.code());
        assertEquals(List.of(ONE_DAY_LEFT), answer.message());
        assertEquals(Optional.of(-1), again.history());
        assertEquals(2, count("connects"), "a refused connection counts");
        assertTrue(again.logged().contains("INFO fail, -1"), again.logged().toString());
    }

    @Test
    void byDefaultThePenaltyIsLeftToTheNaughtyPlugin() {
        Karma plugin = plugin(Map.of());
        session(plugin, -3);
        Connection again = new Connection();
        assertEquals(ReturnCode.DECLINED, connect(plugin, again).code());
        assertEquals(Optional.of(ONE_DAY_LEFT), again.session().notes().get(SharedNotes.NAUGHTY));
        assertEquals(Optional.of("disconnect"), again.session().notes().get(SharedNotes.NAUGHTY_REJECT_TYPE));
    }

    @Test
    void rejectZeroToleratesAClientInThePenaltyBox() {
        Karma plugin = plugin(Map.of("reject", "0"));
        session(plugin, -3);
        Connection again = new Connection();
        assertEquals(ReturnCode.DECLINED, connect(plugin, again).code());
        assertEquals(Optional.empty(), again.session().notes().get(SharedNotes.NAUGHTY));
        assertTrue(again.logged().contains("INFO fail, tolerated, -1"), again.logged().toString());
    }

    @Test
    void thePenaltyEndsAfterPenaltyDaysAndItsRemainderIsInTheReply() {
        Karma plugin = plugin(Map.of("reject", "connect", "penalty_days", 0.5));
        session(plugin, -3);
        clock.advance(Duration.ofHours(6));
        assertEquals(List.of("You were naughty. You cannot connect for 0.25 more days."),
                connect(plugin, new Connection()).message());
        clock.advance(Duration.ofHours(6));
        Connection expired = new Connection();
        assertEquals(ReturnCode.DECLINED, connect(plugin, expired).code());
        assertTrue(expired.logged().contains("INFO pass, penalty expired (1 naughty, 0 nice, 2 connects)"),
                expired.logged().toString());
    }

    @Test
    void aClientWithMoreNiceThanNaughtySessionsIsNotPenalized() {
        Karma plugin = plugin(Map.of("reject", "connect"));
        session(plugin, 3);
        session(plugin, 5);
        Connection naughty = session(plugin, -3);
        assertTrue(naughty.logged().contains("INFO negative, (msg: -3, his: 1)"), naughty.logged().toString());
        assertEquals(Optional.empty(), store.value("karma:" + CLIENT + ":" + "penalty"));
        Connection again = new Connection();
        assertEquals(ReturnCode.DECLINED, connect(plugin, again).code());
        assertEquals(Optional.of(1), again.history());
        assertTrue(again.logged().contains("INFO pass, no penalty (1 naughty, 2 nice, 3 connects)"), again.logged().toString());
    }

    @Test
    void negativeSetsHowFarBelowZeroTheHistoryMayGo() {
        Karma plugin = plugin(Map.of("reject", "connect", "negative", 2));
        session(plugin, -3);
        assertEquals(Optional.empty(), store.value("karma:" + CLIENT + ":" + "penalty"));
        assertEquals(ReturnCode.DECLINED, connect(plugin, new Connection()).code());
        session(plugin, -3);
        assertEquals(ReturnCode.DENY_DISCONNECT, connect(plugin, new Connection()).code());
    }

    @Test
    void anUnusableNegativeMeansOne() {
        Karma plugin = plugin(Map.of("reject", "connect", "negative", 0));
        session(plugin, -3);
        assertEquals(ReturnCode.DENY_DISCONNECT, connect(plugin, new Connection()).code());
    }

    @Test
    void aClientThatWasNeverNiceGetsADayMoreForEachNaughtySessionPastFive() {
        Karma plugin = plugin(Map.of("reject", "connect"));
        for (int i = 0; i < 6; i++) {
            session(plugin, -3);
        }
        Connection seventh = session(plugin, -3);
        assertTrue(seventh.logged().contains("INFO negative, sent to penalty box, penalty box bonus!, (msg: -3, his: -7)"),
                seventh.logged().toString());
        assertEquals(List.of("You were naughty. You cannot connect for 8.00 more days."),
                connect(plugin, new Connection()).message());
        clock.advance(Duration.ofDays(7));
        assertEquals(List.of(ONE_DAY_LEFT), connect(plugin, new Connection()).message());
    }

    @Test
    void neutralSessionsCountAsConnectionsAndSessionsWithoutKarmaAreNotRecorded() {
        Karma plugin = plugin(Map.of());
        session(plugin, 0);
        assertEquals(Optional.empty(), store.value("karma:" + CLIENT + ":" + "connects"));
        Connection neutral = session(plugin, -2);
        assertTrue(neutral.logged().contains("INFO neutral, (msg: -2, his: 0)"), neutral.logged().toString());
        assertEquals(1, count("connects"));
        assertEquals(0, count("naughty"));
        assertEquals(Duration.ofDays(365), store.ttl("karma:" + CLIENT + ":connects").orElse(null));
    }

    @Test
    void twoNodesSharingTheStoreBothCount() {
        Karma one = plugin(Map.of());
        Karma two = plugin(Map.of());
        Connection first = new Connection();
        Connection second = new Connection();
        connect(one, first);
        connect(two, second);
        first.session().notes().put(SharedNotes.KARMA, 3);
        second.session().notes().put(SharedNotes.KARMA, 4);
        HookResults.settled(one.onDisconnect(first));
        HookResults.settled(two.onDisconnect(second));
        assertEquals(2, count("nice"));
        assertEquals(2, count("connects"));
    }

    @Test
    void aVeryGoodHistoryRaisesTheSessionsKarma() {
        Karma plugin = plugin(Map.of());
        for (int i = 0; i < 11; i++) {
            session(plugin, 3);
        }
        Connection known = new Connection();
        connect(plugin, known);
        assertEquals(Optional.of(11), known.history());
        assertEquals(1, known.karma());
    }

    @Test
    void anImmuneClientIsNotRefusedAtConnect() {
        Karma plugin = plugin(Map.of("reject", "connect"));
        session(plugin, -3);
        Connection relay = new Connection();
        relay.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        assertEquals(ReturnCode.DECLINED, connect(plugin, relay).code());
    }

    @Test
    void aStoreFailureLetsTheClientPass() {
        Karma plugin = plugin(Map.of("reject", "connect"));
        session(plugin, -3);
        store.failing(true);
        Connection connection = new Connection();
        assertEquals(ReturnCode.DECLINED, connect(plugin, connection).code());
        connection.session().notes().put(SharedNotes.KARMA, -5);
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onDisconnect(connection)).code());
        assertTrue(connection.logged().stream().anyMatch(line -> line.startsWith("ERROR skip, the state store failed")),
                connection.logged().toString());
        store.failing(false);
        assertEquals(1, count("naughty"), "the failed session was not recorded");
    }

    @Test
    void anUnknownClientGetsOneRecipientPerMessage() {
        Karma plugin = plugin(Map.of());
        Connection connection = new Connection();
        connect(plugin, connection);
        assertEquals(ReturnCode.DECLINED, plugin.onRcpt(connection.rcpt("<a@example.org>")).code());
        connection.transaction().recipient("<a@example.org>");
        HookResult second = plugin.onRcpt(connection.rcpt("<b@example.org>"));
        assertEquals(ReturnCode.DENY, second.code());
        assertEquals(List.of("too many recipients for karma 0 (h: 0)"), second.message());
    }

    @Test
    void aClientWithAGoodHistoryOrAGoodSessionGetsMoreRecipients() {
        Karma plugin = plugin(Map.of());
        session(plugin, 3);
        Connection known = new Connection();
        connect(plugin, known);
        known.transaction().recipient("<a@example.org>");
        assertEquals(ReturnCode.DECLINED, plugin.onRcpt(known.rcpt("<b@example.org>")).code());

        store.clear();
        Connection good = new Connection();
        connect(plugin, good);
        good.session().notes().put(SharedNotes.KARMA, 1);
        good.transaction().recipient("<a@example.org>");
        assertEquals(ReturnCode.DECLINED, plugin.onRcpt(good.rcpt("<b@example.org>")).code());
    }

    @Test
    void veryBadKarmaIsRefusedAtDataUnlessNaughtyWillDoIt() {
        Karma plugin = plugin(Map.of("reject", "connect"));
        Connection connection = new Connection();
        connect(plugin, connection);
        connection.session().notes().put(SharedNotes.KARMA, -4);
        assertEquals(ReturnCode.DECLINED, plugin.onData(connection).code());
        connection.session().notes().put(SharedNotes.KARMA, -5);
        HookResult refused = plugin.onDataPost(connection);
        assertEquals(ReturnCode.DENY_DISCONNECT, refused.code());
        assertEquals(List.of("very bad karma: -5"), refused.message());
        connection.session().notes().put(SharedNotes.NAUGHTY, "refused by dnsbl");
        assertEquals(ReturnCode.DECLINED, plugin.onData(connection).code());
    }

    @Test
    void aSenderUnderASpammyTopLevelDomainLowersTheKarma() {
        Karma plugin = plugin(Map.of());
        Connection connection = new Connection();
        connect(plugin, connection);
        plugin.onMail(connection.mail("<news@shop.example.info>"));
        assertEquals(-4, connection.karma());
        plugin.onMail(connection.mail("<a@example.org>"));
        assertEquals(-4, connection.karma());
    }

    @Test
    void aSpaceAfterTheColonOfMailOrRcptLowersTheKarma() {
        Karma plugin = plugin(Map.of());
        Connection connection = new Connection();
        connect(plugin, connection);
        assertEquals(ReturnCode.DECLINED, plugin.onMailParse(connection.parse("mail", "from:<a@example.org>")).code());
        assertEquals(ReturnCode.DECLINED, plugin.onRcptParse(connection.parse("rcpt", "TO:<b@example.org>")).code());
        assertEquals(0, connection.karma());
        plugin.onMailParse(connection.parse("mail", "FROM: <a@example.org>"));
        plugin.onRcptParse(connection.parse("rcpt", "TO: <b@example.org>"));
        assertEquals(-4, connection.karma());
    }
}
