package org.postern.smtp.plugin.naughty.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

/** naughty's decisions at each of its hooks, on notes stored as the deferring plugins store them. */
class NaughtyTest {
    private final TestContext ctx = new TestContext();

    private static Naughty naughty(Map<String, String> options) {
        return new Naughty(TestConfig.of(Naughty.Config.class, options));
    }

    /** What the plugin answers at each hook, in session order. */
    private Map<String, HookResult> answers(Naughty naughty) {
        Map<String, HookResult> answers = new LinkedHashMap<>();
        answers.put("connect", naughty.onConnect(ctx));
        answers.put("mail", naughty.onMail(ctx.mail("<a@example.org>")));
        answers.put("rcpt", naughty.onRcpt(ctx.rcpt("<b@example.org>")));
        answers.put("data", naughty.onData(ctx));
        answers.put("data_post", naughty.onDataPost(ctx));
        return answers;
    }

    private static Map<String, ReturnCode> codes(Map<String, HookResult> answers) {
        Map<String, ReturnCode> codes = new LinkedHashMap<>();
        answers.forEach((hook, answer) -> codes.put(hook, answer.code()));
        return codes;
    }

    private static Map<String, ReturnCode> refusedAt(ReturnCode refusal, String... hooks) {
        Map<String, ReturnCode> codes = new LinkedHashMap<>();
        for (String hook : List.of("connect", "mail", "rcpt", "data", "data_post")) {
            codes.put(hook, List.of(hooks).contains(hook) ? refusal : ReturnCode.DECLINED);
        }
        return codes;
    }

    private static Map<String, ReturnCode> neverRefused() {
        return refusedAt(ReturnCode.DECLINED);
    }

    private void markNaughty(String rejectType, String reply) {
        PluginConventions.reject(ctx, "naughty", rejectType, reply, "test");
    }

    @Test
    void aSessionNobodyMarkedIsNeverRefused() {
        assertEquals(neverRefused(), codes(answers(naughty(Map.of()))));
        assertTrue(ctx.logged().contains("INFO pass"), ctx.logged().toString());
    }

    @Test
    void byDefaultTheRefusalComesAtRcptAndDisconnectsWhenTheMarkingPluginGaveNoType() {
        markNaughty(null, "You are naughty");
        Map<String, HookResult> answers = answers(naughty(Map.of()));
        assertEquals(refusedAt(ReturnCode.DENY_DISCONNECT, "rcpt", "data_post"), codes(answers));
        assertEquals(List.of("You are naughty"), answers.get("rcpt").message());
        assertTrue(ctx.logged().contains("INFO disconnecting"), ctx.logged().toString());
    }

    @Test
    void theRejectOptionNamesTheHookAndDataPostStaysTheFallback() {
        markNaughty(null, "You are naughty");
        assertEquals(refusedAt(ReturnCode.DENY_DISCONNECT, "connect", "data_post"), codes(answers(naughty(Map.of("reject", "connect")))));
        assertEquals(refusedAt(ReturnCode.DENY_DISCONNECT, "mail", "data_post"), codes(answers(naughty(Map.of("reject", "Mail")))));
        assertEquals(refusedAt(ReturnCode.DENY_DISCONNECT, "data", "data_post"), codes(answers(naughty(Map.of("reject", "data")))));
        assertEquals(refusedAt(ReturnCode.DENY_DISCONNECT, "data_post"), codes(answers(naughty(Map.of("reject", "data_post")))));
    }

    @Test
    void aHookItCannotRefuseAtMeansDataPost() {
        markNaughty(null, "You are naughty");
        assertEquals(refusedAt(ReturnCode.DENY_DISCONNECT, "data_post"), codes(answers(naughty(Map.of("reject", "quit")))));
        assertEquals(refusedAt(ReturnCode.DENY_DISCONNECT, "data_post"), codes(answers(naughty(Map.of("reject", "hook_queue_post")))));
    }

    @Test
    void theTypeTheMarkingPluginStoredWinsOverTheOwnDefault() {
        markNaughty("temp", "Try again later");
        HookResult answer = naughty(Map.of("reject_type", "perm")).onRcpt(ctx.rcpt("<b@example.org>"));
        assertEquals(ReturnCode.DENYSOFT, answer.code());
        assertEquals(List.of("Try again later"), answer.message());
    }

    @Test
    void theOwnRejectTypeAppliesWhenNoneWasStored() {
        markNaughty(null, "Go away");
        assertEquals(ReturnCode.DENY, naughty(Map.of("reject_type", "perm")).onRcpt(ctx.rcpt("<b@example.org>")).code());
        assertEquals(ReturnCode.DENYSOFT_DISCONNECT,
                naughty(Map.of("reject_type", "temp_disconnect")).onRcpt(ctx.rcpt("<b@example.org>")).code());
    }

    @Test
    void anUnknownTypeDisconnects() {
        ctx.session().notes().put(SharedNotes.NAUGHTY, "Go away");
        ctx.session().notes().put(SharedNotes.NAUGHTY_REJECT_TYPE, "bogus");
        assertEquals(ReturnCode.DENY_DISCONNECT, naughty(Map.of("reject_type", "temp")).onRcpt(ctx.rcpt("<b@example.org>")).code());
    }

    @Test
    void eachDeferredRefusalIsOneLineOfTheReplyWithTheFirstOnesType() {
        markNaughty("perm", "Listed in bl.example");
        markNaughty("temp", "Sender domain does not resolve");
        HookResult answer = naughty(Map.of()).onRcpt(ctx.rcpt("<b@example.org>"));
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(List.of("Listed in bl.example", "Sender domain does not resolve"), answer.message());
    }

    @Test
    void anAuthenticatedClientIsNotRefusedAndItsMarkIsCleared() {
        markNaughty("perm", "You are naughty");
        ctx.session().authenticated("alice@example.org");
        assertEquals(neverRefused(), codes(answers(naughty(Map.of("reject", "mail")))));
        assertTrue(ctx.session().notes().get(SharedNotes.NAUGHTY).isEmpty());
        assertTrue(ctx.logged().contains("INFO auth success cleared naughty"), ctx.logged().toString());
    }

    @Test
    void immunityDoesNotSpareAMarkedSessionAsInQpsmtpd() {
        markNaughty("perm", "You are naughty");
        ctx.session().notes().put(SharedNotes.WHITELIST_HOST, true);
        ctx.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        assertEquals(ReturnCode.DENY, naughty(Map.of()).onRcpt(ctx.rcpt("<b@example.org>")).code());
    }

    @Test
    void aMarkClearedBeforeTheRefusalHookRefusesNothing() {
        Naughty naughty = naughty(Map.of());
        markNaughty("perm", "You are naughty");
        assertEquals(ReturnCode.DECLINED, naughty.onMail(ctx.mail("<a@example.org>")).code());
        // dnsbl does this at rcpt for postmaster, abuse, mailer-daemon and root
        ctx.session().notes().remove(SharedNotes.NAUGHTY);
        assertEquals(ReturnCode.DECLINED, naughty.onRcpt(ctx.rcpt("<postmaster@example.org>")).code());
        assertEquals(ReturnCode.DECLINED, naughty.onDataPost(ctx).code());
    }

    @Test
    void anEmptyMarkIsNoMark() {
        ctx.session().notes().put(SharedNotes.NAUGHTY, "");
        assertEquals(ReturnCode.DECLINED, naughty(Map.of()).onRcpt(ctx.rcpt("<b@example.org>")).code());
    }
}
