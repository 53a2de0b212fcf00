package org.postern.smtp.plugin.whitelist.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HeloContext;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class WhitelistTest {
    /** A session from 192.0.2.1 whose HELO name is {@code heloName}, as the helo and ehlo hooks see it. */
    private static final class Session extends TestContext implements HeloContext {
        private final String heloName;

        Session(String heloName) {
            this.heloName = heloName;
            session().helo(heloName);
        }

        @Override
        public String host() {
            return heloName;
        }

        @Override
        public List<String> arguments() {
            return List.of();
        }

        @Override
        public void offerCapability(String capability) {
            throw new AssertionError("whitelist offers no extension");
        }
    }

    private final Session session = new Session("mx.client.example");

    private static Whitelist plugin(Map<String, Object> options) {
        return new Whitelist(TestConfig.of(Whitelist.Config.class, options));
    }

    @Test
    void aHostListedByAStartAnchoredFragmentIsImmune() {
        session.withConfig("whitelisthosts", "198.51.100.7", "192.0.2");
        assertEquals(ReturnCode.OK, plugin(Map.of()).onConnect(session).code());
        assertEquals(Optional.of(true), session.session().notes().get(SharedNotes.WHITELIST_HOST));
        assertEquals(Optional.of(5), session.session().notes().get(SharedNotes.KARMA));
        assertTrue(session.logged().contains("INFO pass, is a whitelisted host"));
        assertTrue(PluginConventions.isImmune(session));
    }

    @Test
    void anUnlistedHostIsLeftToTheOtherPlugins() {
        session.withConfig("whitelisthosts", "192.0.2.10", "10.", "");
        assertEquals(ReturnCode.DECLINED, plugin(Map.of()).onConnect(session).code());
        assertEquals(Optional.empty(), session.session().notes().get(SharedNotes.WHITELIST_HOST));
        assertEquals(List.of("DEBUG skip: 192.0.2.1 is not whitelisted"), session.logged());
        assertFalse(PluginConventions.isImmune(session));
    }

    @Test
    void aListedHeloNameEndsTheHeloAndEhloChainsButGivesNoImmunity() {
        Whitelist plugin = plugin(Map.of());
        session.withConfig("whitelisthelo", "MX.Client.Example");
        assertEquals(ReturnCode.OK, plugin.onHelo(session).code());
        assertEquals(ReturnCode.OK, plugin.onEhlo(session).code());
        assertEquals(Optional.of(true), session.session().notes().get(SharedNotes.WHITELIST_HELO));
        assertTrue(session.logged().contains("INFO helo host mx.client.example in whitelisthelo"));
        assertFalse(PluginConventions.isImmune(session));

        Session other = new Session("other.example");
        other.withConfig("whitelisthelo", "mx.client.example");
        assertEquals(ReturnCode.DECLINED, plugin.onEhlo(other).code());
        assertEquals(Optional.empty(), other.session().notes().get(SharedNotes.WHITELIST_HELO));
    }

    @Test
    void aSenderListedByAddressOrDomainIsImmuneForItsTransaction() {
        Whitelist plugin = plugin(Map.of());
        session.withConfig("whitelistsenders", "Friend@Example.NET", "trusted.example");
        assertEquals(ReturnCode.OK, plugin.onMail(session.mail("<friend@example.net>")).code());
        assertEquals(Optional.of(true), session.transaction().notes().get(SharedNotes.WHITELIST_SENDER));
        assertTrue(session.logged().contains("INFO envelope sender friend@example.net in whitelistsenders"));
        assertTrue(PluginConventions.isImmune(session));

        Session byDomain = new Session("mx.client.example");
        byDomain.withConfig("whitelistsenders", "trusted.example");
        assertEquals(ReturnCode.OK, plugin.onMail(byDomain.mail("<Anyone@Trusted.Example>")).code());
        assertEquals(List.of("INFO envelope sender anyone@trusted.example in whitelistsenders"), byDomain.logged());
    }

    @Test
    void otherSendersSubdomainsAndTheNullSenderAreNotListed() {
        Whitelist plugin = plugin(Map.of());
        session.withConfig("whitelistsenders", "friend@example.net", "trusted.example", "");
        for (String sender : List.of("<foe@example.net>", "<friend@sub.example.net>", "<a@mail.trusted.example>", "<>",
                "<postmaster>")) {
            assertEquals(ReturnCode.DECLINED, plugin.onMail(session.mail(sender)).code(), sender);
        }
        assertEquals(Optional.empty(), session.transaction().notes().get(SharedNotes.WHITELIST_SENDER));
        assertFalse(PluginConventions.isImmune(session));
    }

    @Test
    void listedRecipientsEndTheRcptChainAndAreCounted() {
        Whitelist plugin = plugin(Map.of());
        session.withConfig("whitelistrcpt", "abuse@example.com", "partner.example");
        assertEquals(ReturnCode.OK, plugin.onRcpt(session.rcpt("<Abuse@example.COM>")).code());
        assertEquals(ReturnCode.DECLINED, plugin.onRcpt(session.rcpt("<sales@example.com>")).code());
        assertEquals(ReturnCode.OK, plugin.onRcpt(session.rcpt("<anyone@partner.example>")).code());
        assertEquals(Optional.of(2), session.transaction().notes().get(SharedNotes.WHITELIST_RCPT));
        assertEquals(List.of("INFO recipient abuse@example.com in whitelistrcpt",
                "INFO recipient anyone@partner.example in whitelistrcpt"), session.logged());
        assertFalse(PluginConventions.isImmune(session), "a listed recipient exempts itself only");
    }

    @Test
    void perRecipientChecksNothingBeforeRcpt() {
        Whitelist plugin = plugin(Map.of("per_recipient", "1"));
        session.withConfig("whitelisthosts", "192.0.2.1").withConfig("whitelisthelo", "mx.client.example")
                .withConfig("whitelistsenders", "example.net");
        assertEquals(ReturnCode.DECLINED, plugin.onConnect(session).code());
        assertEquals(ReturnCode.DECLINED, plugin.onHelo(session).code());
        assertEquals(ReturnCode.DECLINED, plugin.onMail(session.mail("<friend@example.net>")).code());
        assertEquals(Optional.empty(), session.session().notes().get(SharedNotes.WHITELIST_HOST));
        assertEquals(Optional.empty(), session.transaction().notes().get(SharedNotes.WHITELIST_SENDER));
    }

    @Test
    void perRecipientChecksHostHeloSenderAndRecipientAtRcpt() {
        Whitelist plugin = plugin(Map.of("per_recipient", "1"));
        Session byHost = new Session("mx.client.example");
        byHost.withConfig("whitelisthosts", "192.0.2.");
        assertEquals(ReturnCode.OK, plugin.onRcpt(byHost.rcpt("<bob@example.com>")).code());
        assertEquals(Optional.of(true), byHost.session().notes().get(SharedNotes.WHITELIST_HOST));

        Session byHelo = new Session("mx.client.example");
        byHelo.withConfig("whitelisthelo", "mx.client.example");
        assertEquals(ReturnCode.OK, plugin.onRcpt(byHelo.rcpt("<bob@example.com>")).code());
        assertEquals(Optional.of(true), byHelo.session().notes().get(SharedNotes.WHITELIST_HELO));

        Session bySender = new Session("mx.client.example");
        bySender.withConfig("whitelistsenders", "example.net");
        assertEquals(ReturnCode.DECLINED, plugin.onRcpt(bySender.rcpt("<bob@example.com>")).code(), "no MAIL yet");
        bySender.transaction().sender("<friend@example.net>");
        assertEquals(ReturnCode.OK, plugin.onRcpt(bySender.rcpt("<bob@example.com>")).code());
        assertEquals(Optional.of(true), bySender.transaction().notes().get(SharedNotes.WHITELIST_SENDER));

        Session byRecipient = new Session("mx.client.example");
        byRecipient.withConfig("whitelistrcpt", "bob@example.com");
        assertEquals(ReturnCode.OK, plugin.onRcpt(byRecipient.rcpt("<bob@example.com>")).code());
        assertEquals(ReturnCode.DECLINED, plugin.onRcpt(byRecipient.rcpt("<carol@example.com>")).code());
    }

    @Test
    void perRecipientMergesEachRecipientsOwnListWithTheGlobalOne() {
        Whitelist plugin = plugin(Map.of("per_recipient", "1"));
        session.withConfig("whitelistsenders", "global.example")
                .withUserConfig("bob@example.com", "whitelistsenders", "bobs-friend.example");
        session.transaction().sender("<x@global.example>");
        assertEquals(ReturnCode.OK, plugin.onRcpt(session.rcpt("<bob@example.com>")).code());
        session.transaction().sender("<x@bobs-friend.example>");
        assertEquals(ReturnCode.OK, plugin.onRcpt(session.rcpt("<bob@example.com>")).code());
        assertEquals(ReturnCode.DECLINED, plugin.onRcpt(session.rcpt("<carol@example.com>")).code(),
                "Bob's list is his own");
    }

    @Test
    void withoutMergeARecipientsOwnListReplacesTheGlobalOne() {
        Whitelist plugin = plugin(Map.of("per_recipient", "1", "merge", "0"));
        session.withConfig("whitelistsenders", "global.example")
                .withUserConfig("bob@example.com", "whitelistsenders", "bobs-friend.example");
        session.transaction().sender("<x@global.example>");
        assertEquals(ReturnCode.DECLINED, plugin.onRcpt(session.rcpt("<bob@example.com>")).code());
        assertEquals(ReturnCode.OK, plugin.onRcpt(session.rcpt("<carol@example.com>")).code(),
                "a recipient without a list of its own has the global one");
    }

    @Test
    void optionsHavePerlsTruth() {
        session.withConfig("whitelisthosts", "192.0.2.1");
        for (String no : List.of("0", "", "false", "FALSE")) {
            assertEquals(ReturnCode.OK, plugin(Map.of("per_recipient", no)).onConnect(session).code(), no);
        }
        for (String yes : List.of("1", "yes", "true")) {
            assertEquals(ReturnCode.DECLINED, plugin(Map.of("per_recipient", yes)).onConnect(session).code(), yes);
        }
    }
}
