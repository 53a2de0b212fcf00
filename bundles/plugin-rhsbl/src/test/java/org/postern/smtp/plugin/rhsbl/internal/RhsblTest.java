package org.postern.smtp.plugin.rhsbl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.dns.DnsFailure;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;
import org.postern.smtp.testkit.TestResolver;

class RhsblTest {
    private final TestResolver dns = new TestResolver();
    private final TestContext ctx = new TestContext()
            .withConfig("rhsbl_zones", "rhsbl.test", "quiet.test does not support abuse@domain");

    private static Rhsbl.Config config(String reject, String rejectType) {
        return TestConfig.of(Rhsbl.Config.class, Map.of("reject", reject, "reject_type", rejectType));
    }

    /** The plugin with qpsmtpd's defaults: reject 1, reject_type perm. */
    private Rhsbl plugin() {
        return new Rhsbl(dns, config("1", "perm"));
    }

    /** The hook's answer for this sender, once its lookups are back. */
    private HookResult mail(Rhsbl plugin, String sender) {
        HookResult result = plugin.onMail(ctx.mail(sender));
        return HookResults.settled(result);
    }

    @Test
    void aDomainListedInAZoneWithItsOwnTextIsRefusedWithThatText() {
        dns.withA("spam.example.quiet.test", "127.0.0.2");
        HookResult answer = mail(plugin(), "<someone@Spam.Example>");
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(List.of("Mail from spam.example rejected because it does not support abuse@domain"), answer.message());
        assertFalse(dns.asked().stream().anyMatch(query -> query.startsWith("TXT")), dns.asked().toString());
        assertTrue(ctx.logged().contains("INFO fail, spam.example is listed in quiet.test"), ctx.logged().toString());
    }

    @Test
    void aZoneWithoutTextOfItsOwnGivesTheTextOfItsTxtRecord() {
        dns.withA("spam.example.rhsbl.test", "127.0.0.2").withTxt("spam.example.rhsbl.test", "is listed for sending spam");
        assertEquals(List.of("Mail from spam.example rejected because it is listed for sending spam"),
                mail(plugin(), "<someone@spam.example>").message());
    }

    @Test
    void withoutAUsableTxtRecordTheReplyNamesTheZone() {
        dns.withA("spam.example.rhsbl.test", "127.0.0.2");
        assertEquals(List.of("Mail from spam.example rejected because it is listed in rhsbl.test"),
                mail(plugin(), "<someone@spam.example>").message());

        TestResolver brokenTxt = new TestResolver() {
            @Override
            public CompletionStage<List<String>> txt(String name) {
                return CompletableFuture.failedFuture(new DnsFailure(DnsFailure.Kind.SERVER_FAILURE, name, "SERVFAIL", null));
            }
        }.withA("other.example.rhsbl.test", "127.0.0.2");
        HookResult answer = mail(new Rhsbl(brokenTxt, config("1", "perm")), "<someone@other.example>");
        assertEquals(ReturnCode.DENY, answer.code(), "a listing stays one when only its TXT record cannot be read");
        assertEquals(List.of("Mail from other.example rejected because it is listed in rhsbl.test"), answer.message());
        assertTrue(ctx.logged().stream().anyMatch(line -> line.startsWith("WARN TXT query failed")), ctx.logged().toString());
    }

    @Test
    void anUnlistedDomainPassesAfterEveryZoneWasAsked() {
        assertEquals(ReturnCode.DECLINED, mail(plugin(), "<someone@clean.example>").code());
        assertEquals(List.of("A clean.example.rhsbl.test", "A clean.example.quiet.test"), dns.asked());
        assertEquals(List.of("INFO pass"), ctx.logged());
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "127.255.255.254", "127.255.255.252", "192.0.2.99"})
    void answersThatAreNoListingLetTheSenderPassAndAreLogged(String answer) {
        dns.withA("spam.example.rhsbl.test", answer);
        assertEquals(ReturnCode.DECLINED, mail(plugin(), "<someone@spam.example>").code());
        assertTrue(ctx.logged().stream().anyMatch(line -> line.startsWith("WARN spam.example.rhsbl.test answered [" + answer + "]")),
                ctx.logged().toString());
    }

    @Test
    void aZoneTheDnsCannotAnswerIsLoggedAndSkipped() {
        dns.failing("spam.example.rhsbl.test").withA("spam.example.quiet.test", "127.0.0.2");
        assertEquals(ReturnCode.DENY, mail(plugin(), "<someone@spam.example>").code(), "the other zone still counts");
        assertTrue(ctx.logged().contains("CRIT query failed: spam.example.rhsbl.test: test failure"), ctx.logged().toString());

        dns.failing("timeout.example.rhsbl.test").failing("timeout.example.quiet.test", DnsFailure.Kind.SERVER_FAILURE);
        assertEquals(ReturnCode.DECLINED, mail(plugin(), "<someone@timeout.example>").code());
    }

    @Test
    void onlyTheSendersDomainIsLookedUpNotTheHeloName() {
        ctx.session().helo("spam.example");
        dns.withA("spam.example.rhsbl.test", "127.0.0.2").withA("spam.example.quiet.test", "127.0.0.2");
        assertEquals(ReturnCode.DECLINED, mail(plugin(), "<someone@clean.example>").code());
        assertEquals(List.of("A clean.example.rhsbl.test", "A clean.example.quiet.test"), dns.asked());

        HookResult listed = mail(plugin(), "<someone@spam.example>");
        assertEquals(List.of("Mail from spam.example rejected because it is listed in rhsbl.test"), listed.message(),
                "the reply names the sender's domain, never 'HELO <name>'");
    }

    @Test
    void immuneClientsAndSendersAreNotLookedUp() {
        dns.withA("spam.example.rhsbl.test", "127.0.0.2");
        ctx.session().notes().put(SharedNotes.WHITELIST_HOST, true);
        assertEquals(ReturnCode.DECLINED, plugin().onMail(ctx.mail("<someone@spam.example>")).code());

        TestContext authenticated = new TestContext().withConfig("rhsbl_zones", "rhsbl.test");
        authenticated.session().authenticated("alice");
        assertEquals(ReturnCode.DECLINED, plugin().onMail(authenticated.mail("<someone@spam.example>")).code());

        TestContext whitelistedSender = new TestContext().withConfig("rhsbl_zones", "rhsbl.test");
        whitelistedSender.transaction().notes().put(SharedNotes.WHITELIST_SENDER, true);
        assertEquals(ReturnCode.DECLINED, plugin().onMail(whitelistedSender.mail("<someone@spam.example>")).code());

        assertEquals(List.of(), dns.asked());
        assertTrue(ctx.logged().contains("INFO skip, whitelisted host"), ctx.logged().toString());
    }

    @Test
    void sendersWithoutADomainToLookUpAndMissingZonesPassWithoutLookups() {
        Rhsbl plugin = plugin();
        for (String sender : List.of("<>", "<postmaster>", "<someone@[192.0.2.7]>")) {
            HookResult answer = plugin.onMail(ctx.mail(sender));
            assertEquals(ReturnCode.DECLINED, answer.code(), sender);
            assertTrue(answer.pending().isEmpty(), sender);
        }
        assertEquals(List.of("INFO pass, null sender", "INFO pass, no domain", "INFO pass, no domain"), ctx.logged());

        TestContext noZones = new TestContext().withConfig("rhsbl_zones", " ");
        assertEquals(ReturnCode.DECLINED, plugin.onMail(noZones.mail("<someone@spam.example>")).code());
        assertEquals(List.of("INFO pass, no zones"), noZones.logged());
        assertEquals(List.of(), dns.asked());
    }

    @Test
    void rejectAndRejectTypeDecideWhatAListingDoes() {
        dns.withA("spam.example.quiet.test", "127.0.0.2");
        String reply = "Mail from spam.example rejected because it does not support abuse@domain";
        assertEquals(ReturnCode.DENYSOFT, mail(new Rhsbl(dns, config("1", "temp")), "<a@spam.example>").code());
        assertEquals(ReturnCode.DENY_DISCONNECT, mail(new Rhsbl(dns, config("1", "disconnect")), "<a@spam.example>").code());
        assertEquals(ReturnCode.DENYSOFT_DISCONNECT, mail(new Rhsbl(dns, config("1", "temp_disconnect")), "<a@spam.example>").code());

        assertEquals(ReturnCode.DECLINED, mail(new Rhsbl(dns, config("0", "perm")), "<a@spam.example>").code());
        assertTrue(ctx.logged().contains("INFO fail, tolerated, spam.example is listed in quiet.test"), ctx.logged().toString());

        assertEquals(ReturnCode.DECLINED, mail(new Rhsbl(dns, config("naughty", "perm")), "<a@spam.example>").code());
        assertEquals(Optional.of(reply), ctx.session().notes().get(SharedNotes.NAUGHTY));
        assertEquals(Optional.of("perm"), ctx.session().notes().get(SharedNotes.NAUGHTY_REJECT_TYPE));
    }

    @Test
    void allZonesAreAskedAtOnceAndTheFirstListingInConfigOrderGivesTheReply() {
        TestResolver held = new TestResolver().holdingA();
        HookResult result = new Rhsbl(held, config("1", "perm")).onMail(ctx.mail("<someone@spam.example>"));
        CompletableFuture<HookResult> later = result.pending().orElseThrow().toCompletableFuture();
        assertEquals(List.of("A spam.example.rhsbl.test", "A spam.example.quiet.test"), held.asked(),
                "both zones asked before either answered");

        held.answerA("spam.example.quiet.test", "127.0.0.2");
        assertFalse(later.isDone(), "the hook waits for every zone");
        held.answerA("spam.example.rhsbl.test", "127.0.0.3");
        assertEquals(List.of("Mail from spam.example rejected because it is listed in rhsbl.test"), later.join().message());
    }
}
