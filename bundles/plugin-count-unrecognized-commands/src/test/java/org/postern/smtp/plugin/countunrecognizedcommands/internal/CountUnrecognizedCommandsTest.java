package org.postern.smtp.plugin.countunrecognizedcommands.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.CommandContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class CountUnrecognizedCommandsTest {
    /** One session in which the client sends unrecognized commands. */
    private static final class UnknownCommands extends TestContext implements CommandContext {
        private String verb = "";

        UnknownCommands send(String verb) {
            this.verb = verb;
            return this;
        }

        @Override
        public String command() {
            return verb;
        }

        @Override
        public List<String> arguments() {
            return List.of();
        }
    }

    private final UnknownCommands session = new UnknownCommands();

    private static CountUnrecognizedCommands plugin(Map<String, Object> options) {
        return new CountUnrecognizedCommands(TestConfig.of(CountUnrecognizedCommands.Config.class, options));
    }

    @Test
    void theFourthUnrecognizedCommandClosesTheConnectionByDefault() {
        CountUnrecognizedCommands plugin = plugin(Map.of());
        for (String verb : List.of("get", "host:", "accept:")) {
            assertEquals(ReturnCode.DECLINED, plugin.onUnrecognizedCommand(session.send(verb)).code());
        }
        HookResult fourth = plugin.onUnrecognizedCommand(session.send("user-agent:"));
        assertEquals(ReturnCode.DENY_DISCONNECT, fourth.code());
        assertEquals(List.of("Closing connection, 4 unrecognized commands. Perhaps you should read RFC 2821?"),
                fourth.message());
        assertEquals(List.of("INFO 'get', (1)", "INFO 'host:', (2)", "INFO 'accept:', (3)", "INFO fail, 'user-agent:' (4)"),
                session.logged());
        assertEquals(4, session.session().notes().get(CountUnrecognizedCommands.UNRECOGNIZED_SO_FAR).orElseThrow());
    }

    @Test
    void countIsConfigurable() {
        CountUnrecognizedCommands plugin = plugin(Map.of("count", 2));
        assertEquals(ReturnCode.DECLINED, plugin.onUnrecognizedCommand(session.send("foo")).code());
        assertEquals(ReturnCode.DENY_DISCONNECT, plugin.onUnrecognizedCommand(session.send("bar")).code());
    }

    @Test
    void aCountOfOneClosesAtTheFirstUnrecognizedCommand() {
        HookResult first = plugin(Map.of("count", 1)).onUnrecognizedCommand(session.send("foo"));
        assertEquals(ReturnCode.DENY_DISCONNECT, first.code());
        assertEquals(List.of("Closing connection, 1 unrecognized commands. Perhaps you should read RFC 2821?"),
                first.message());
    }

    @Test
    void aCountBelowOneMeansTheDefault() {
        for (int unusable : new int[] {0, -3}) {
            UnknownCommands fresh = new UnknownCommands();
            CountUnrecognizedCommands plugin = plugin(Map.of("count", unusable));
            for (int i = 1; i < 4; i++) {
                assertEquals(ReturnCode.DECLINED, plugin.onUnrecognizedCommand(fresh.send("foo")).code(), "command " + i);
            }
            assertEquals(ReturnCode.DENY_DISCONNECT, plugin.onUnrecognizedCommand(fresh.send("foo")).code());
        }
    }

    @Test
    void eachSessionCountsItsOwnCommands() {
        CountUnrecognizedCommands plugin = plugin(Map.of("count", 2));
        plugin.onUnrecognizedCommand(session.send("foo"));
        assertEquals(ReturnCode.DECLINED, plugin.onUnrecognizedCommand(new UnknownCommands().send("foo")).code());
        assertEquals(ReturnCode.DENY_DISCONNECT, plugin.onUnrecognizedCommand(session.send("foo")).code());
    }
}
