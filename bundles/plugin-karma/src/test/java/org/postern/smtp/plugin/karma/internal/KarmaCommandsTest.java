package org.postern.smtp.plugin.karma.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestStateStore;

class KarmaCommandsTest {
    private static final Instant NOW = Instant.parse("2026-12-03T10:00:00Z");
    private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    private final TestStateStore store = new TestStateStore(clock);

    private KarmaCommands commands(Map<String, Object> karmaOptions) {
        return new KarmaCommands(store, TestConfig.of(Karma.Config.class, karmaOptions), clock);
    }

    @Test
    void searchShowsKarmaToolsRowForAnAddress() throws Exception {
        store.add("karma:192.0.2.7:nice", 3, Duration.ofDays(1));
        store.add("karma:192.0.2.7:connects", 5, Duration.ofDays(1));
        assertEquals(KarmaCommands.HEADING + "\n 192.0.2.7                                         0       3       5",
                commands(Map.of()).search("192.0.2.7"));
    }

    @Test
    void captureStartsAPenaltyOfPenaltyDaysAndCountsANaughtySession() throws Exception {
        String output = commands(Map.of("penalty_days", 0.5)).capture("192.0.2.7");
        assertEquals("192.0.2.7 is in the penalty box until Thu Dec  3 22:00.\n" + KarmaCommands.HEADING
                + "\n 192.0.2.7                   Thu Dec  3 10:00      1       0       0", output);
        assertEquals(Optional.of(Long.toString(NOW.getEpochSecond())), store.value("karma:192.0.2.7:penalty"));
        assertEquals(Duration.ofDays(365), store.ttl("karma:192.0.2.7:penalty").orElse(null));
    }

    @Test
    void releaseEndsThePenaltyAndForgetsTheNaughtySessionsButNotTheOthers() throws Exception {
        KarmaCommands commands = commands(Map.of());
        store.add("karma:192.0.2.7:nice", 2, Duration.ofDays(1));
        commands.capture("192.0.2.7");
        assertEquals("192.0.2.7 is out of the penalty box.\n" + KarmaCommands.HEADING
                + "\n 192.0.2.7                                         0       2       0", commands.release("192.0.2.7"));
        assertEquals(Optional.empty(), store.value("karma:192.0.2.7:penalty"));
    }

    @Test
    void anAddressIsKeyedAsTheClientsAddressIsWhateverFormItIsTypedIn() {
        assertEquals("2001:db8:0:0:0:0:0:1", KarmaCommands.address(" 2001:db8::1 "));
        assertEquals("192.0.2.7", KarmaCommands.address("192.0.2.7"));
        for (String notAnAddress : new String[] {"mail.example.org", "cafe.be", "1:2:3:4:5:6:7:8:9", "", "192.0.2.7/24"}) {
            assertEquals("not an IP address: " + notAnAddress, assertThrows(IllegalArgumentException.class,
                    () -> KarmaCommands.address(notAnAddress)).getMessage());
        }
    }
}
