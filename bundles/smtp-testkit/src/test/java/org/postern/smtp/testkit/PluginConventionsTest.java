package org.postern.smtp.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;

/** qpsmtpd's Plugin.pm conventions, as a ported plugin relies on them. */
class PluginConventionsTest {
    private final TestContext ctx = new TestContext();

    @Test
    void relayClientsAndWhitelistedHostsOrSendersAreImmune() {
        assertFalse(PluginConventions.isImmune(ctx));
        ctx.session().notes().put(SharedNotes.WHITELIST_HOST, true);
        assertTrue(PluginConventions.isImmune(ctx));
        assertEquals("INFO skip, whitelisted host", ctx.logged().get(0));
        TestContext other = new TestContext();
        other.transaction().notes().put(SharedNotes.WHITELIST_SENDER, true);
        assertTrue(PluginConventions.isImmune(other));
        TestContext authenticated = new TestContext();
        authenticated.session().authenticated("alice@example.org");
        assertTrue(PluginConventions.isImmune(authenticated));
        assertEquals("INFO skip, relay client", authenticated.logged().get(0));
    }

    @Test
    void rejectTypesMapAsQpsmtpdsGetRejectType() {
        assertEquals(ReturnCode.DENYSOFT, PluginConventions.rejectType("temp", ReturnCode.DENY));
        assertEquals(ReturnCode.DENYSOFT, PluginConventions.rejectType("Soft", ReturnCode.DENY));
        assertEquals(ReturnCode.DENY, PluginConventions.rejectType("perm", ReturnCode.DENYSOFT));
        assertEquals(ReturnCode.DENY_DISCONNECT, PluginConventions.rejectType("disconnect", ReturnCode.DENY));
        assertEquals(ReturnCode.DENYSOFT_DISCONNECT, PluginConventions.rejectType("temp_disconnect", ReturnCode.DENY));
        assertEquals(ReturnCode.DENY, PluginConventions.rejectType("", ReturnCode.DENY));
        assertEquals(ReturnCode.DENYSOFT, PluginConventions.rejectType(null, ReturnCode.DENYSOFT));
    }

    @Test
    void rejectIsToleratedDeferredToNaughtyOrGivenWithItsType() {
        assertEquals(ReturnCode.DECLINED, PluginConventions.reject(ctx, "0", "perm", "no", "listed").code());
        assertEquals("INFO fail, tolerated, listed", ctx.logged().get(0));
        assertEquals(ReturnCode.DECLINED, PluginConventions.reject(ctx, "naughty", "temp", "first reason", null).code());
        assertEquals(ReturnCode.DECLINED, PluginConventions.reject(ctx, "naughty", "perm", "second reason", null).code());
        assertEquals(Optional.of("first reason\r\nsecond reason"), ctx.session().notes().get(SharedNotes.NAUGHTY));
        assertEquals(Optional.of("temp"), ctx.session().notes().get(SharedNotes.NAUGHTY_REJECT_TYPE));
        HookResult refusal = PluginConventions.reject(ctx, "1", "temp", "try later", null);
        assertEquals(ReturnCode.DENYSOFT, refusal.code());
        assertEquals(List.of("try later"), refusal.message());
        assertEquals(ReturnCode.DENY, PluginConventions.reject(ctx, "1", null, "go away", null).code());
    }

    @Test
    void karmaAddsUpAndAuthResultsJoin() {
        assertEquals(-2, PluginConventions.adjustKarma(ctx, -2));
        PluginConventions.adjustKarma(ctx, 5);
        assertEquals(Optional.of(3), ctx.session().notes().get(SharedNotes.KARMA));
        assertEquals("INFO karma 5 (3)", ctx.logged().get(1));
        PluginConventions.storeAuthResults(ctx, "spf=pass smtp.mailfrom=example.org");
        PluginConventions.storeAuthResults(ctx, "dkim=none");
        assertEquals(Optional.of("spf=pass smtp.mailfrom=example.org; dkim=none"),
                ctx.session().notes().get(SharedNotes.AUTHENTICATION_RESULTS));
    }
}
