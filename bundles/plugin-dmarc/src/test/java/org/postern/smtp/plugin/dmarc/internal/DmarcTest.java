package org.postern.smtp.plugin.dmarc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.DkimResult;
import org.postern.smtp.api.DkimResults;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.SpfResult;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;
import org.postern.smtp.testkit.TestResolver;

/** The client is 192.0.2.1 (the testkit's session); the percentile drawn for pct is fixed per test. */
class DmarcTest {
    private static final Instant NOW = Instant.parse("2026-12-03T10:15:30Z");

    @TempDir
    Path reports;
    private final TestResolver dns = new TestResolver()
            .withTxt("_dmarc.reject.example", "v=DMARC1; p=reject; rua=mailto:dmarc@reject.example")
            .withTxt("_dmarc.quarantine.example", "v=DMARC1; p=quarantine")
            .withTxt("_dmarc.half.example", "v=DMARC1; p=reject; pct=50")
            .withTxt("_dmarc.strict.example", "v=DMARC1; p=reject; adkim=s; aspf=s")
            .withTxt("_dmarc.parent.example", "v=DMARC1; p=reject; sp=none")
            .withTxt("_dmarc.twice.example", "v=DMARC1; p=reject", "v=DMARC1; p=none")
            .failing("_dmarc.broken.example");
    private final TestContext ctx = new TestContext();
    private int percentile = 0;

    private Dmarc plugin(Map<String, ?> options) {
        return new Dmarc(dns, TestConfig.of(Dmarc.Config.class, options), reports, Clock.fixed(NOW, ZoneOffset.UTC), () -> percentile);
    }

    private HookResult judge(Dmarc plugin, String header) {
        ctx.transaction().sender("<bounces@mailer.example>").recipient("<rcpt@postern.test>").message(header + "\r\nbody\r\n");
        HookResult result = HookResults.settled(plugin.onDataPost(ctx));
        plugin.deactivate();
        return result;
    }

    private HookResult judge(String from) {
        return judge(plugin(Map.of()), "From: Someone <someone@" + from + ">\r\nSubject: hi\r\n");
    }

    private void dkim(String domain, String result) {
        ctx.transaction().notes().put(SharedNotes.DKIM_RESULTS, new DkimResults(List.of(new DkimResult(domain, "s1", result, "abcdefgh"))));
    }

    private void spf(String domain, String result) {
        ctx.transaction().notes().put(SharedNotes.DMARC_SPF, new SpfResult(domain, "mfrom", result));
    }

    private Optional<String> authResults() {
        return ctx.transaction().notes().get(SharedNotes.TRANSACTION_AUTHENTICATION_RESULTS);
    }

    @Test
    void anAlignedDkimSignatureOfASubdomainPasses() {
        dkim("mail.reject.example", "pass");
        spf("mailer.example", "pass");
        assertEquals(ReturnCode.DECLINED, judge("reject.example").code());
        assertEquals(Optional.of("dmarc=pass (p=reject dis=none) header.from=reject.example"), authResults());
        assertTrue(ctx.logged().contains("INFO pass, DKIM aligned"), ctx.logged().toString());
    }

    @Test
    void anAlignedSpfPassPasses() {
        dkim("elsewhere.example", "pass");
        spf("reject.example", "pass");
        assertEquals(ReturnCode.DECLINED, judge("reject.example").code());
        assertEquals(Optional.of("dmarc=pass (p=reject dis=none) header.from=reject.example"), authResults());
    }

    @Test
    void aFailureUnderPRejectIsRefusedAsQpsmtpdRefusesIt() {
        dkim("reject.example", "fail");
        spf("reject.example", "softfail");
        HookResult result = judge("reject.example");
        assertEquals(ReturnCode.DENY, result.code());
        assertEquals(List.of("failed DMARC policy"), result.message());
        assertEquals(Optional.of("dmarc=fail (p=reject dis=reject) header.from=reject.example"), authResults());
        assertEquals(Optional.of(-3), ctx.session().notes().get(SharedNotes.KARMA));
    }

    @Test
    void rejectAndRejectTypeAreQpsmtpdsOptions() {
        assertEquals(ReturnCode.DENYSOFT, judge(plugin(Map.of("reject_type", "temp")), "From: a@reject.example\r\n").code());
        assertEquals(ReturnCode.DECLINED, judge(plugin(Map.of("reject", "0")), "From: a@reject.example\r\n").code());
        assertEquals(ReturnCode.DECLINED, judge(plugin(Map.of("reject", "naughty")), "From: a@reject.example\r\n").code());
        assertEquals(Optional.of("failed DMARC policy"), ctx.session().notes().get(SharedNotes.NAUGHTY));
    }

    @Test
    void quarantineIsRefusedAsByQpsmtpdOrMarked() {
        assertEquals(ReturnCode.DENY, judge("quarantine.example").code());
        HookResult marked = judge(plugin(Map.of("quarantine", "mark")), "From: a@quarantine.example\r\n");
        assertEquals(ReturnCode.DECLINED, marked.code());
        assertEquals(List.of("yes"), ctx.transaction().header().orElseThrow().get("X-DMARC-Quarantine"));
    }

    @Test
    void outsidePctTheNextPolicyDownApplies() {
        percentile = 49;
        assertEquals(ReturnCode.DENY, judge("half.example").code());
        percentile = 50;
        assertEquals(ReturnCode.DENY, judge("half.example").code());
        assertEquals(Optional.of("dmarc=fail (p=reject dis=quarantine) header.from=half.example"),
                authResults().map(results -> results.substring(results.lastIndexOf("dmarc="))));
        assertEquals(ReturnCode.DECLINED, judge(plugin(Map.of("quarantine", "mark")), "From: a@half.example\r\n").code());
    }

    @Test
    void strictAlignmentWantsTheFromDomainItself() {
        dkim("mail.strict.example", "pass");
        spf("bounces.strict.example", "pass");
        assertEquals(ReturnCode.DENY, judge("strict.example").code());
    }

    @Test
    void aSubdomainWithoutItsOwnRecordGetsItsOrganizationsSubdomainPolicy() {
        assertEquals(ReturnCode.DECLINED, judge("news.parent.example").code());
        assertEquals(Optional.of("dmarc=fail (p=reject dis=none) header.from=news.parent.example"), authResults());
        assertEquals(List.of("TXT _dmarc.news.parent.example", "TXT _dmarc.parent.example"), dns.asked());
        assertEquals(ReturnCode.DENY, judge("parent.example").code());
    }

    @Test
    void withoutOneRecordThereIsNoPolicyAndTheMessagePasses() {
        assertEquals(ReturnCode.DECLINED, judge("nopolicy.example").code());
        assertEquals(Optional.of("dmarc=none header.from=nopolicy.example"), authResults());
        assertTrue(ctx.logged().contains("INFO skip, no policy"), ctx.logged().toString());
        assertEquals(ReturnCode.DECLINED, judge("twice.example").code());
    }

    @Test
    void aDnsFailureLetsTheMessagePassWithTemperror() {
        assertEquals(ReturnCode.DECLINED, judge("broken.example").code());
        assertEquals(Optional.of("dmarc=temperror header.from=broken.example"), authResults());
    }

    @Test
    void noFromOrNoOneFromDomainIsRefusedAsByQpsmtpd() {
        HookResult none = judge(plugin(Map.of()), "Subject: no from\r\n");
        assertEquals(ReturnCode.DENY, none.code());
        assertEquals(List.of("empty from address, null sender?"), none.message());
        HookResult two = judge(plugin(Map.of()), "From: a@reject.example\r\nFrom: b@reject.example\r\n");
        assertEquals(List.of("unparseable from header"), two.message());
        assertEquals(List.of(), dns.asked());
    }

    @Test
    void ourOwnUsersMailIsNotJudged() {
        ctx.session().authenticated("someone");
        assertEquals(ReturnCode.DECLINED, judge("reject.example").code());
        assertEquals(List.of(), dns.asked());
        assertEquals(Optional.empty(), authResults());
    }

    @Test
    void aPolicyThatAsksForReportsLeavesARecordOfTheMessage() throws IOException {
        dkim("reject.example", "fail");
        spf("mailer.example", "pass");
        judge("reject.example");
        List<String> lines = Files.readAllLines(reports.resolve("dmarc-2026-12-03.tsv"));
        assertEquals(List.of(String.join("\t", AggregateRecords.COLUMNS),
                String.join("\t", "1796292930", "192.0.2.1", "reject.example", "mailer.example", "postern.test",
                        "reject.example", "reject", "reject", "100", "r", "r", "reject", "fail", "fail",
                        "reject.example:s1:fail", "mailer.example:mfrom:pass", "mailto:dmarc@reject.example", "0")), lines);
        judge("quarantine.example");
        assertEquals(2, Files.readAllLines(reports.resolve("dmarc-2026-12-03.tsv")).size());
        assertFalse(Files.exists(reports.resolve("dmarc-2026-12-04.tsv")));
    }

    @Test
    void noRecordIsKeptWhenTheyAreTurnedOff() {
        judge(plugin(Map.of("report_records", false)), "From: a@reject.example\r\n");
        assertFalse(Files.exists(reports.resolve("dmarc-2026-12-03.tsv")));
    }
}
