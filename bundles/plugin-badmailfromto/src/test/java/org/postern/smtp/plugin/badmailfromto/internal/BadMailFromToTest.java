package org.postern.smtp.plugin.badmailfromto.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestContext;

class BadMailFromToTest {
    private final BadMailFromTo plugin = new BadMailFromTo();
    private final TestContext ctx = new TestContext().withConfig("badmailfromto",
            "Stalker@Example.org\tVictim@Example.com", "  @spam.example   ceo@example.com   a comment");

    private HookResult rcpt(String sender, String recipient) {
        ctx.transaction().sender(sender);
        return plugin.onRcpt(ctx.rcpt(recipient));
    }

    @Test
    void aListedPairIsRefusedInAnyCaseAsIfTheRecipientDidNotExist() {
        HookResult answer = rcpt("<STALKER@example.ORG>", "<victim@EXAMPLE.com>");
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(List.of("mail to victim@example.com not accepted here"), answer.message());
        assertEquals(Optional.of("5.1.1"), answer.enhancedStatus());
        assertEquals(List.of("INFO fail, stalker@example.org may not send to victim@example.com"), ctx.logged());
    }

    @Test
    void aDomainEntryListsEverySenderAtExactlyThatDomain() {
        assertEquals(ReturnCode.DENY, rcpt("<anyone@Spam.Example>", "<ceo@example.com>").code());
        assertEquals(ReturnCode.DECLINED, rcpt("<anyone@sub.spam.example>", "<ceo@example.com>").code());
    }

    @Test
    void aListedSenderMayStillWriteToOtherRecipients() {
        assertEquals(ReturnCode.DECLINED, rcpt("<stalker@example.org>", "<friend@example.com>").code());
        assertEquals(List.of("DEBUG pass, recipient not listed"), ctx.logged());
    }

    @Test
    void otherSendersMayWriteToAListedRecipient() {
        assertEquals(ReturnCode.DECLINED, rcpt("<friend@example.org>", "<victim@example.com>").code());
        assertEquals(List.of("DEBUG pass, sender not listed"), ctx.logged());
    }

    @Test
    void everyPairOfASenderAppliesWhenItIsListedByAddressAndByDomain() {
        ctx.withConfig("badmailfromto", "bob@other.example\tvictim@example.com", "@other.example\tboss@example.com");
        assertEquals(ReturnCode.DENY, rcpt("<bob@other.example>", "<victim@example.com>").code());
        assertEquals(ReturnCode.DENY, rcpt("<bob@other.example>", "<boss@example.com>").code());
    }

    @Test
    void aSenderWithoutRecipientRefusesNothing() {
        ctx.withConfig("badmailfromto", "stalker@example.org");
        assertEquals(ReturnCode.DECLINED, rcpt("<stalker@example.org>", "<victim@example.com>").code());
        assertEquals(List.of("DEBUG pass, recipient not listed"), ctx.logged());
    }

    @Test
    void anEntryWithoutAtSignIsLoggedAndSkipped() {
        ctx.withConfig("badmailfromto", "example.org\tvictim@example.com", "", "stalker@example.org\tvictim@example.com");
        assertEquals(ReturnCode.DENY, rcpt("<stalker@example.org>", "<victim@example.com>").code());
        assertEquals("WARN bad config, no @ sign in example.org", ctx.logged().get(0));
    }

    @Test
    void theNullSenderAndSendersWithoutDomainAreNotChecked() {
        ctx.withConfig("badmailfromto", "^.*\tvictim@example.com", "postmaster@\tvictim@example.com");
        assertEquals(ReturnCode.DECLINED, rcpt("<>", "<victim@example.com>").code());
        assertEquals(ReturnCode.DECLINED, rcpt("<postmaster>", "<victim@example.com>").code());
        assertEquals(List.of("DEBUG skip, null sender", "DEBUG skip, missing user or host"), ctx.logged());
    }

    @Test
    void withoutAListEveryPairPasses() {
        ctx.withConfig("badmailfromto");
        assertEquals(ReturnCode.DECLINED, rcpt("<stalker@example.org>", "<victim@example.com>").code());
        assertEquals(List.of("DEBUG skip, empty list"), ctx.logged());
    }

    @Test
    void anAuthenticatedSenderIsRefusedAsWell() {
        ctx.session().authenticated("stalker");
        assertEquals(ReturnCode.DENY, rcpt("<stalker@example.org>", "<victim@example.com>").code());
    }
}
