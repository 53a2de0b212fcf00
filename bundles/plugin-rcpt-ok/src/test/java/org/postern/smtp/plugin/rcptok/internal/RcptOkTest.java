package org.postern.smtp.plugin.rcptok.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import java.util.List;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.TestContext;

class RcptOkTest {
    private final RcptOk plugin = new RcptOk();
    private final TestContext ctx = new TestContext()
            .withConfig("me", "mx.example.org")
            .withConfig("rcpthosts", "example.org", ".example.net", " Example.COM ")
            .withConfig("morercpthosts", "more.example");

    private ReturnCode answerFor(String recipient) {
        return plugin.onRcpt(ctx.rcpt(recipient)).code();
    }

    @Test
    void acceptsListedDomainsCaseInsensitively() {
        assertEquals(ReturnCode.OK, answerFor("<bob@example.org>"));
        assertEquals(ReturnCode.OK, answerFor("<bob@EXAMPLE.ORG>"));
        assertEquals(ReturnCode.OK, answerFor("<bob@example.com>"));
        assertEquals(ReturnCode.OK, answerFor("<bob@more.example>"));
    }

    @Test
    void acceptsItsOwnHostNameAndPostmaster() {
        assertEquals(ReturnCode.OK, answerFor("<root@mx.example.org>"));
        assertEquals(ReturnCode.OK, answerFor("<postmaster>"));
    }

    @Test
    void aLeadingDotMatchesSubdomainsOnly() {
        assertEquals(ReturnCode.OK, answerFor("<bob@mail.example.net>"));
        assertEquals(ReturnCode.DENY, answerFor("<bob@example.net>"));
        assertEquals(ReturnCode.DENY, answerFor("<bob@badexample.net>"));
    }

    @Test
    void authenticatedClientsMayRelay() {
        ctx.session().authenticated("alice");
        assertEquals(ReturnCode.OK, answerFor("<bob@anywhere.example>"));
    }

    @Test
    void relayClientsMayRelayButWhitelistedHostsAndSendersMayNot() {
        ctx.session().notes().put(SharedNotes.WHITELIST_HOST, true);
        ctx.transaction().notes().put(SharedNotes.WHITELIST_SENDER, true);
        assertEquals(ReturnCode.DENY, answerFor("<bob@anywhere.example>"), "a whitelist is no licence to relay");
        ctx.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        assertEquals(ReturnCode.OK, answerFor("<bob@anywhere.example>"));
    }

    @Test
    void deniesEverythingElseAsRelaying() {
        assertEquals(ReturnCode.DENY, answerFor("<bob@example.org.evil.test>"));
        HookResult answer = plugin.onRcpt(ctx.rcpt("<bob@notexample.org>"));
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(List.of("Relaying denied"), answer.message());
        assertEquals("5.7.1", answer.enhancedStatus().orElseThrow());
        assertEquals("INFO fail: notexample.org not in rcpthosts", ctx.logged().get(ctx.logged().size() - 1));
    }
}
