package org.postern.smtp.plugin.badmailfrom.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class BadMailFromTest {
    /** The configuration as a .cfg file gives it: keys as the README names them. */
    private static BadMailFrom.Config config(boolean useConfigItem, String... entries) {
        return TestConfig.of(BadMailFrom.Config.class, Map.of("entries", entries, "use_config_item", useConfigItem));
    }

    private final TestContext ctx = new TestContext();

    @Test
    void refusesListedAddressesDomainsAndPatterns() {
        BadMailFrom plugin = new BadMailFrom(config(false, "spammer@Example.com We know you",
                "@junk.example", "^bounce-.*@.*\\.mailer\\.example$ VERP does not fool me"));
        HookResult listed = plugin.onMail(ctx.mail("<SPAMMER@example.com>"));
        assertEquals(ReturnCode.DENY, listed.code());
        assertEquals(List.of("We know you"), listed.message());
        assertEquals(List.of("Your envelope sender is in my badmailfrom list"), plugin.onMail(ctx.mail("<x@JUNK.example>")).message());
        assertEquals(List.of("VERP does not fool me"), plugin.onMail(ctx.mail("<bounce-42@eu.mailer.example>")).message());
        assertEquals(ReturnCode.DECLINED, plugin.onMail(ctx.mail("<x@sub.junk.example>")).code());
        assertEquals(ReturnCode.DECLINED, plugin.onMail(ctx.mail("<friend@example.com>")).code());
        assertEquals(ReturnCode.DECLINED, plugin.onMail(ctx.mail("<>")).code());
    }

    @Test
    void alsoReadsTheConfigItemUnlessToldNotTo() {
        ctx.withConfig("badmailfrom", "@from-item.example");
        assertEquals(ReturnCode.DENY, new BadMailFrom(config(true)).onMail(ctx.mail("<a@from-item.example>")).code());
        assertEquals(ReturnCode.DECLINED, new BadMailFrom(config(false)).onMail(ctx.mail("<a@from-item.example>")).code());
    }

    @Test
    void unusableEntriesAreReportedAndIgnored() {
        List<String> rejected = new ArrayList<>();
        assertEquals(1, BadMailFrom.parse(List.of("no-at-sign", "(unclosed*", "  ", "ok@example.org"), rejected::add).size());
        assertEquals(List.of("no-at-sign", "(unclosed*"), rejected);
    }
}
