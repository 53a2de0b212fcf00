package org.postern.smtp.plugin.badrcptto.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.TestContext;

class BadRcptToTest {
    private final BadRcptTo plugin = new BadRcptTo();
    private final TestContext ctx = new TestContext().withConfig("badrcptto",
            "Closed@Example.com", "  @junk.example", "^a\\Sb@", "^.*%.*@ Percent hack not allowed here");

    private HookResult rcpt(String recipient) {
        return plugin.onRcpt(ctx.rcpt(recipient));
    }

    private Optional<Integer> karma() {
        return ctx.session().notes().get(SharedNotes.KARMA);
    }

    @Test
    void aListedAddressIsRefusedInAnyCaseAsAMailboxThatDoesNotExist() {
        HookResult answer = rcpt("<CLOSED@example.COM>");
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(List.of("mail to Closed@Example.com not accepted here"), answer.message(), "the entry as written");
        assertEquals(Optional.of("5.1.1"), answer.enhancedStatus());
        assertEquals(Optional.of(-2), karma());
        assertTrue(ctx.logged().contains("INFO fail: rcpt match"), ctx.logged().toString());
    }

    @Test
    void aDomainEntryRefusesEveryAddressAtExactlyThatDomain() {
        HookResult answer = rcpt("<anyone@JUNK.example>");
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(List.of("mail to @junk.example not accepted here"), answer.message());
        assertTrue(ctx.logged().contains("INFO fail: host match"), ctx.logged().toString());

        assertEquals(ReturnCode.DECLINED, rcpt("<anyone@sub.junk.example>").code());
        assertEquals(ReturnCode.DECLINED, rcpt("<anyone@junk.example.org>").code());
    }

    @Test
    void aPatternMatchesTheLowerCaseAddressIgnoringCaseAndKeepsItsEscapes() {
        HookResult answer = rcpt("<AXB@example.org>");
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(List.of("mail to ^a\\Sb@ not accepted here"), answer.message());
        assertTrue(ctx.logged().contains("INFO fail: pattern match"), ctx.logged().toString());

        assertEquals(ReturnCode.DECLINED, rcpt("<\"a b\"@example.org>").code(), "\\S is not \\s");
    }

    @Test
    void anEntryWithAReasonIsRefusedWithThatReason() {
        HookResult answer = rcpt("<victim%elsewhere.example@example.org>");
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(List.of("Percent hack not allowed here"), answer.message());
        assertEquals(Optional.empty(), answer.enhancedStatus(), "the core's 5.7.1 for a policy refusal");
        assertEquals(Optional.of(-2), karma());
    }

    @Test
    void anUnlistedRecipientPassesWithoutKarma() {
        assertEquals(ReturnCode.DECLINED, rcpt("<friend@example.com>").code());
        assertEquals(List.of("INFO pass"), ctx.logged());
        assertEquals(Optional.empty(), karma());
    }

    @Test
    void theFirstMatchingEntryGivesTheReply() {
        ctx.withConfig("badrcptto", "@example.net First", "bob@example.net Second");
        assertEquals(List.of("First"), rcpt("<bob@example.net>").message());
    }

    @Test
    void anEntryThatIsNeitherAnAddressNorAPatternIsLoggedAndSkipped() {
        ctx.withConfig("badrcptto", "example.com", "bob@example.com");
        assertEquals(ReturnCode.DENY, rcpt("<bob@example.com>").code());
        assertEquals("ERROR bad config: no @ sign in example.com", ctx.logged().get(0));
    }

    @Test
    void anInvalidPatternIsLoggedAndTheOtherEntriesStillApply() {
        ctx.withConfig("badrcptto", "^(unclosed@", "bob@example.com");
        assertEquals(ReturnCode.DENY, rcpt("<bob@example.com>").code());
        assertTrue(ctx.logged().get(0).startsWith("ERROR bad config: '^(unclosed@' is not a valid pattern"), ctx.logged().toString());
    }

    @Test
    void blankEntriesAreSkipped() {
        ctx.withConfig("badrcptto", "   ", "bob@example.com");
        assertEquals(ReturnCode.DENY, rcpt("<bob@example.com>").code());
    }

    @Test
    void withoutAListEveryRecipientPasses() {
        ctx.withConfig("badrcptto");
        assertEquals(ReturnCode.DECLINED, rcpt("<closed@example.com>").code());
        assertEquals(List.of("INFO skip, empty config"), ctx.logged());
    }

    @Test
    void aRecipientWithoutDomainIsNotChecked() {
        ctx.withConfig("badrcptto", "^postmaster");
        assertEquals(ReturnCode.DECLINED, rcpt("<postmaster>").code());
        assertEquals(List.of("INFO skip: missing host or user"), ctx.logged());
    }

    @Test
    void anAuthenticatedClientIsImmune() {
        ctx.session().authenticated("alice");
        assertEquals(ReturnCode.DECLINED, rcpt("<closed@example.com>").code());
        assertEquals(List.of("INFO skip, relay client"), ctx.logged());
        assertEquals(Optional.empty(), karma());
    }

    @Test
    void relayClientsWhitelistedHostsAndSendersAreImmune() {
        ctx.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        assertEquals(ReturnCode.DECLINED, rcpt("<closed@example.com>").code());
        ctx.session().notes().remove(SharedNotes.RELAY_CLIENT);

        ctx.session().notes().put(SharedNotes.WHITELIST_HOST, true);
        assertEquals(ReturnCode.DECLINED, rcpt("<closed@example.com>").code());
        ctx.session().notes().remove(SharedNotes.WHITELIST_HOST);

        ctx.transaction().notes().put(SharedNotes.WHITELIST_SENDER, true);
        assertEquals(ReturnCode.DECLINED, rcpt("<closed@example.com>").code());
        assertEquals(List.of("INFO skip, relay client", "INFO skip, whitelisted host", "INFO skip, whitelisted sender"), ctx.logged());
    }
}
