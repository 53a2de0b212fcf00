package org.postern.smtp.plugin.senderpermittedfrom.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.SpfResult;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;
import org.postern.smtp.testkit.TestResolver;

/** The client is 192.0.2.1, saying EHLO client.example (the testkit's session). */
class SenderPermittedFromTest {
    private final TestResolver dns = new TestResolver()
            .withTxt("pass.test", "v=spf1 ip4:192.0.2.0/24 -all")
            .withTxt("fail.test", "v=spf1 ip4:198.51.100.1 -all")
            .withTxt("softfail.test", "v=spf1 ~all")
            .withTxt("neutral.test", "v=spf1 ?all")
            .withTxt("broken.test", "v=spf1 ip4:not-an-address -all")
            .failing("timeout.test");
    private final TestContext ctx = new TestContext().withConfig("me", "mx.example.org");

    private SenderPermittedFrom plugin(Map<String, ?> config) {
        return new SenderPermittedFrom(dns, TestConfig.of(SenderPermittedFrom.Config.class, config));
    }

    private SenderPermittedFrom plugin(int reject) {
        return plugin(Map.of("reject", String.valueOf(reject)));
    }

    private HookResult mail(SenderPermittedFrom plugin, String sender) {
        return HookResults.settled(plugin.onMail(ctx.mail(sender)));
    }

    /** The Received-SPF header data_post writes into a message after this MAIL. */
    private List<String> receivedSpf(SenderPermittedFrom plugin) {
        ctx.transaction().message("Subject: test\r\n\r\nbody\r\n");
        assertEquals(ReturnCode.DECLINED, plugin.onDataPost(ctx).code());
        return ctx.transaction().header().orElseThrow().get("Received-SPF");
    }

    @Test
    void aPassingSenderIsNotedAndCarriedIntoTheHeaders() {
        SenderPermittedFrom plugin = plugin(6);
        assertEquals(ReturnCode.DECLINED, mail(plugin, "<Someone@Pass.Test>").code());
        assertEquals(Optional.of("pass.test"), ctx.transaction().notes().get(SenderPermittedFrom.SPF_PASS_HOST));
        assertEquals(Optional.of(new SpfResult("pass.test", "mfrom", "pass")), ctx.transaction().notes().get(SharedNotes.DMARC_SPF));
        assertEquals(Optional.of("spf=pass smtp.mailfrom=pass.test"), ctx.transaction().notes().get(SharedNotes.TRANSACTION_AUTHENTICATION_RESULTS));
        assertEquals(Optional.of(1), ctx.session().notes().get(SharedNotes.KARMA));
        assertEquals(List.of("pass (domain of pass.test designates 192.0.2.1 as permitted sender) receiver=mx.example.org; "
                + "identity=mailfrom; envelope-from=\"Someone@pass.test\"; helo=client.example; client-ip=192.0.2.1"), receivedSpf(plugin));
        assertEquals("Received-SPF", ctx.transaction().header().orElseThrow().fields().get(0).name(), "the header goes on top");
    }

    @ParameterizedTest(name = "{0} at reject {1}: {2}")
    @CsvSource({
        "fail.test, 0, DECLINED", "fail.test, 1, DECLINED", "fail.test, 2, DENYSOFT", "fail.test, 3, DENY",
        "softfail.test, 2, DECLINED", "softfail.test, 3, DENYSOFT", "softfail.test, 4, DENY",
        "neutral.test, 4, DECLINED", "neutral.test, 5, DENY",
        "none.test, 5, DECLINED", "none.test, 6, DENY",
        "broken.test, 3, DECLINED", "broken.test, 4, DENYSOFT", "broken.test, 6, DENY",
        "timeout.test, 1, DECLINED", "timeout.test, 2, DENYSOFT", "timeout.test, 6, DENYSOFT"})
    void eachRejectLevelRefusesWhatQpsmtpdsTableSays(String domain, int reject, ReturnCode expected) {
        assertEquals(expected, mail(plugin(reject), "<a@" + domain + ">").code());
    }

    @Test
    void theRepliesNameTheResultAndWhy() {
        assertEquals(List.of("SPF - forgery: domain of fail.test does not designate 192.0.2.1 as permitted sender"),
                mail(plugin(3), "<a@fail.test>").message());
        assertEquals(List.of("SPF - fail: domain of fail.test does not designate 192.0.2.1 as permitted sender"),
                mail(plugin(2), "<a@fail.test>").message());
        assertEquals(List.of("SPF - fail: transitioning domain of softfail.test does not designate 192.0.2.1 as permitted sender"),
                mail(plugin(4), "<a@softfail.test>").message());
        assertEquals(List.of("SPF - none: 192.0.2.1 is neither permitted nor denied by domain of none.test"),
                mail(plugin(6), "<a@none.test>").message());
        assertEquals(List.of("SPF - permerror: Error in processing SPF Record"), mail(plugin(6), "<a@broken.test>").message());
        assertEquals(List.of("SPF - temperror: Error in retrieving data from DNS"), mail(plugin(2), "<a@timeout.test>").message());
    }

    @Test
    void aFailureLowersTheKarmaOnlyWhenTheLevelLooksAtIt() {
        mail(plugin(0), "<a@fail.test>");
        assertEquals(Optional.empty(), ctx.session().notes().get(SharedNotes.KARMA));
        mail(plugin(1), "<a@softfail.test>");
        assertEquals(Optional.of(-1), ctx.session().notes().get(SharedNotes.KARMA));
    }

    @Test
    void aToleratedResultStillGoesIntoTheNotesAndTheHeader() {
        SenderPermittedFrom plugin = plugin(0);
        assertEquals(ReturnCode.DECLINED, mail(plugin, "<a@fail.test>").code());
        assertEquals(Optional.of(new SpfResult("fail.test", "mfrom", "fail")), ctx.transaction().notes().get(SharedNotes.DMARC_SPF));
        assertEquals(Optional.of("spf=fail smtp.mailfrom=fail.test"), ctx.transaction().notes().get(SharedNotes.TRANSACTION_AUTHENTICATION_RESULTS));
        assertTrue(receivedSpf(plugin).get(0).startsWith("fail (domain of fail.test does not designate 192.0.2.1"));
        assertTrue(ctx.logged().contains("INFO skip, tolerated (fail: domain of fail.test does not designate 192.0.2.1 as permitted sender)"),
                ctx.logged().toString());
    }

    @Test
    void mechanismsThatNeedMoreLookupsAskTheResolver() {
        dns.withTxt("mx.test", "v=spf1 mx -all").withMx("mx.test", 10, "mail.mx.test").withA("mail.mx.test", "192.0.2.1")
                .withTxt("include.test", "v=spf1 include:a.test -all").withTxt("a.test", "v=spf1 a:host.a.test -all")
                .withA("host.a.test", "192.0.2.1")
                .withTxt("ptr.test", "v=spf1 ptr -all").withPtr("192.0.2.1", "client.ptr.test").withA("client.ptr.test", "192.0.2.1");
        for (String domain : List.of("mx.test", "include.test", "ptr.test")) {
            assertEquals(Optional.empty(), mail(plugin(3), "<a@" + domain + ">").message().stream().findFirst(), domain);
            assertEquals(Optional.of(domain), ctx.transaction().notes().get(SenderPermittedFrom.SPF_PASS_HOST), ctx.logged() + " " + dns.asked());
        }
        assertTrue(dns.asked().containsAll(List.of("MX mx.test", "A mail.mx.test", "TXT a.test", "A host.a.test", "PTR 192.0.2.1")),
                dns.asked().toString());
    }

    @Test
    void immuneClientsAreNotCheckedAndCountAsPassing() {
        ctx.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        SenderPermittedFrom plugin = plugin(3);
        assertEquals(ReturnCode.DECLINED, mail(plugin, "<a@fail.test>").code());
        assertEquals(List.of(), dns.asked());
        assertEquals(Optional.of(new SpfResult("fail.test", "mfrom", "pass")), ctx.transaction().notes().get(SharedNotes.DMARC_SPF));
        assertEquals(List.of(), receivedSpf(plugin));
    }

    @Test
    void theNullSenderIsNotChecked() {
        SenderPermittedFrom plugin = plugin(6);
        assertEquals(ReturnCode.DECLINED, mail(plugin, "<>").code());
        assertEquals(ReturnCode.DECLINED, mail(plugin, "<postmaster>").code());
        assertEquals(List.of(), dns.asked());
        assertEquals(Optional.of(new SpfResult("", "helo", "none")), ctx.transaction().notes().get(SharedNotes.DMARC_SPF));
        assertEquals(List.of(), receivedSpf(plugin));
    }

    @Test
    void spfDenyAndTheSpfbehaviorItemSetTheLevelAsInQpsmtpd() {
        assertEquals(ReturnCode.DENY, mail(plugin(Map.of("spf_deny", "1")), "<a@fail.test>").code());
        assertEquals(ReturnCode.DENYSOFT, mail(plugin(Map.of("spf_deny", "1")), "<a@softfail.test>").code());
        assertEquals(ReturnCode.DENY, mail(plugin(Map.of("spf_deny", "2")), "<a@softfail.test>").code());
        ctx.withConfig("spfbehavior", "4");
        assertEquals(ReturnCode.DENY, mail(plugin(Map.of()), "<a@softfail.test>").code());
        assertEquals(ReturnCode.DENYSOFT, mail(plugin(3), "<a@softfail.test>").code(), "the plugin's own option wins");
    }

    @Test
    void aBadLevelIsLoggedAndMeansAnnotateOnly() {
        assertEquals(ReturnCode.DECLINED, mail(plugin(Map.of("reject", "strict")), "<a@fail.test>").code());
        assertEquals(ReturnCode.DECLINED, mail(plugin(Map.of("reject", "7")), "<a@fail.test>").code());
    }

    @Test
    void aCheckWithoutAnAnswerInTimeIsNoResult() {
        TestResolver silent = new TestResolver() {
            @Override
            public CompletionStage<List<String>> txt(String name) {
                return new CompletableFuture<>();
            }
        };
        SenderPermittedFrom plugin = new SenderPermittedFrom(silent,
                TestConfig.of(SenderPermittedFrom.Config.class, Map.of("reject", "2", "timeout", 1)));
        HookResult answer = mail(plugin, "<a@pass.test>");
        assertEquals(ReturnCode.DENYSOFT, answer.code());
        assertEquals(List.of("SPF - no response"), answer.message());
        assertTrue(ctx.logged().contains("INFO fail, no response"), ctx.logged().toString());
        assertEquals(List.of(), receivedSpf(plugin), "no result, no header");
    }

    @Test
    void reverseNamesAreReadBackIntoAddresses() throws Exception {
        assertEquals(InetAddress.getByName("192.0.2.1"), ResolverDnsService.reversed("1.2.0.192.in-addr.arpa").get());
        assertEquals(InetAddress.getByName("2001:db8::1"), ResolverDnsService.reversed(
                "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.IP6.ARPA").get());
        assertTrue(ResolverDnsService.reversed("1.2.0.in-addr.arpa").isCompletedExceptionally());
        assertTrue(ResolverDnsService.reversed("example.org").isCompletedExceptionally());
    }
}
