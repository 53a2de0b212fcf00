package org.postern.smtp.plugin.rcptregexp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestContext;

class RcptRegexpTest {
    private final TestContext ctx = new TestContext();
    private final RcptRegexp plugin = new RcptRegexp();

    private HookResult rcpt(String path) {
        return plugin.onRcpt(ctx.rcpt(path));
    }

    @Test
    void theFirstMatchingLineAnswers() {
        ctx.withConfig("rcpt_regexp",
                "me@myhost.org           OK       Accepting mail",
                "/^user\\d+\\@doma\\.in$/   OK       Accepting mail",
                "info@MyHost.com         DENY     User not found.",
                "/^unused\\@.*/           DENY",
                "/^Later@/               DENYSOFT Mailbox moving, try tomorrow",
                "/^gone@/                DENYHARD Go away",
                "/^.*$/                  DECLINED Fall through to next rcpt plugin");
        assertEquals(HookResult.ok().toString(), rcpt("<Me@MYHOST.org>").toString());
        assertEquals(ReturnCode.OK, rcpt("<user42@doma.in>").code());
        assertEquals(ReturnCode.DECLINED, rcpt("<user42@domain>").code());
        assertEquals(List.of("User not found."), rcpt("<INFO@myhost.com>").message());
        HookResult noComment = rcpt("<unused@anywhere.example>");
        assertEquals(ReturnCode.DENY, noComment.code());
        assertEquals(List.of(), noComment.message());
        HookResult later = rcpt("<later@example.org>");
        assertEquals(ReturnCode.DENYSOFT, later.code());
        assertEquals(List.of("Mailbox moving, try tomorrow"), later.message());
        assertEquals(ReturnCode.DENY_DISCONNECT, rcpt("<gone@example.org>").code());
        assertEquals(HookResult.declined().toString(), rcpt("<anyone@example.org>").toString());
        assertEquals("DEBUG RE /^.*$/ matched anyone@example.org, returning DECLINED", ctx.logged().get(ctx.logged().size() - 1));
    }

    @Test
    void unusableLinesAreLoggedOnceAndSkipped() {
        ctx.withConfig("rcpt_regexp", "/^(a@/ DENY broken", "a@example.org", "a@example.org deny lower case", "# a comment", "",
                "a@example.org DENYSOFT at last");
        assertEquals(List.of("at last"), rcpt("<a@example.org>").message());
        assertEquals(List.of("at last"), rcpt("<a@example.org>").message());
        assertEquals(3, ctx.logged().stream().filter(line -> line.startsWith("WARN")).count(), ctx.logged().toString());
        assertEquals("WARN rcpt_regexp - 'deny' is not a valid constant, ignoring this line", ctx.logged().get(2));
    }

    @Test
    void followsChangesOfTheConfigItem() {
        ctx.withConfig("rcpt_regexp", "/^a@/ DENY first");
        assertEquals(List.of("first"), rcpt("<a@example.org>").message());
        ctx.withConfig("rcpt_regexp", "/^a@/ DENY second");
        assertEquals(List.of("second"), rcpt("<a@example.org>").message());
    }

    @Test
    void declinesWithoutLinesAndForAddressesWithoutDomain() {
        assertEquals(ReturnCode.DECLINED, rcpt("<a@example.org>").code());
        ctx.withConfig("rcpt_regexp", "/.*/ DENY everything");
        assertEquals(ReturnCode.DECLINED, rcpt("<postmaster>").code());
        assertEquals(ReturnCode.DENY, rcpt("<postmaster@example.org>").code());
    }
}
