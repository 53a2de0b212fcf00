package org.postern.smtp.plugin.rcptok.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.postern.smtp.api.ReturnCode;
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
        assertEquals(ReturnCode.DECLINED, answerFor("<bob@example.net>"));
        assertEquals(ReturnCode.DECLINED, answerFor("<bob@badexample.net>"));
    }

    @Test
    void authenticatedClientsMayRelay() {
        ctx.session().authenticated("alice");
        assertEquals(ReturnCode.OK, answerFor("<bob@anywhere.example>"));
    }

    @Test
    void declinesEverythingElseSoLaterPluginsDecide() {
        assertEquals(ReturnCode.DECLINED, answerFor("<bob@example.org.evil.test>"));
        assertEquals(ReturnCode.DECLINED, answerFor("<bob@notexample.org>"));
        assertEquals("INFO skip: notexample.org not in rcpthosts", ctx.logged().get(ctx.logged().size() - 1));
    }
}
