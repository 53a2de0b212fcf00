package org.postern.smtp.plugin.dmarc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.SchemaFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.plugin.dmarc.internal.AggregateReports.Report;
import org.postern.smtp.plugin.dmarc.internal.AggregateReports.Reporter;
import org.postern.smtp.testkit.TestConfig;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/** Reports made from record files written here, checked against RFC 7489 Appendix C's schema. */
class AggregateReportsTest {
    private static final LocalDate DAY = LocalDate.parse("2026-12-03");
    /** 2026-12-03T00:00:00Z and 23:59:59Z. */
    private static final long BEGIN = 1796256000L;
    private static final long END = BEGIN + 86_399;
    private static final Reporter REPORTER = new Reporter("Postern Test", "dmarc-reports@mx.postern.test", "https://postern.test/dmarc");

    @TempDir
    Path records;

    /** A record line as the plugin writes it, the values of {@link AggregateRecords#COLUMNS} but the time. */
    private static String line(String sourceIp, String headerFrom, String policyDomain, String p, String sp, String pct,
            String disposition, String dkimAligned, String spfAligned, String dkim, String spf, String rua) {
        return String.join("\t", "1796292930", sourceIp, headerFrom, "mailer.example", "postern.test", policyDomain, p, sp,
                pct, "r", "s", disposition, dkimAligned, spfAligned, dkim, spf, rua, "1");
    }

    private void recordsOfTheDay(String... lines) throws IOException {
        List<String> file = new ArrayList<>(List.of(String.join("\t", AggregateRecords.COLUMNS)));
        file.addAll(List.of(lines));
        Files.write(records.resolve("dmarc-2026-12-03.tsv"), file);
    }

    private List<Report> write() throws IOException {
        return AggregateReports.write(records, DAY, REPORTER, records.resolve("reports"));
    }

    private static byte[] gunzip(Path file) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return in.readAllBytes();
        }
    }

    /** The report's XML, once it has passed the schema's validation. */
    private static Document validDocument(Path file) throws Exception {
        byte[] xml = gunzip(file);
        SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI)
                .newSchema(AggregateReportsTest.class.getResource("/rfc7489-appendix-c.xsd"))
                .newValidator().validate(new StreamSource(new ByteArrayInputStream(xml)));
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(xml));
    }

    private static String text(Document document, String path) throws Exception {
        return XPathFactory.newInstance().newXPath().evaluate(path, document);
    }

    private static int count(Document document, String path) throws Exception {
        return ((NodeList) XPathFactory.newInstance().newXPath().evaluate(path, document, XPathConstants.NODESET)).getLength();
    }

    @Test
    void eachPolicyDomainWithRuaGetsOneGzippedReportNamedAsRfc7489Says() throws Exception {
        recordsOfTheDay(
                line("192.0.2.1", "reject.example", "reject.example", "reject", "reject", "100", "reject", "fail", "fail",
                        "reject.example:s1:fail", "mailer.example:mfrom:pass", "mailto:dmarc@reject.example"),
                line("192.0.2.2", "monitor.example", "monitor.example", "none", "none", "100", "none", "pass", "fail",
                        "monitor.example:s1:pass", "mailer.example:mfrom:pass", "mailto:a@monitor.example,mailto:b@report.example"),
                line("192.0.2.3", "silent.example", "silent.example", "reject", "reject", "100", "reject", "fail", "fail",
                        "", "mailer.example:mfrom:pass", ""));
        List<Report> reports = write();

        Path folder = records.resolve("reports");
        assertEquals(List.of(
                new Report("monitor.example", folder.resolve("mx.postern.test!monitor.example!" + BEGIN + "!" + END + ".xml.gz"),
                        "mailto:a@monitor.example,mailto:b@report.example", 1),
                new Report("reject.example", folder.resolve("mx.postern.test!reject.example!" + BEGIN + "!" + END + ".xml.gz"),
                        "mailto:dmarc@reject.example", 1)), reports);
        assertEquals(List.of("file\tpolicy_domain\tmessages\trua",
                "mx.postern.test!monitor.example!1796256000!1796342399.xml.gz\tmonitor.example\t1\tmailto:a@monitor.example,mailto:b@report.example",
                "mx.postern.test!reject.example!1796256000!1796342399.xml.gz\treject.example\t1\tmailto:dmarc@reject.example"),
                Files.readAllLines(folder.resolve("rua-2026-12-03.tsv")));
        try (var files = Files.list(folder)) {
            assertEquals(3, files.count());
        }
        assertEquals("2026-12-03T00:00:00Z", Instant.ofEpochSecond(BEGIN).toString());
        assertEquals("2026-12-03T23:59:59Z", Instant.ofEpochSecond(END).toString());
    }

    @Test
    void theReportSaysWhoReportsThePolicyAndTheDayAndValidatesAgainstAppendixC() throws Exception {
        recordsOfTheDay(line("192.0.2.1", "reject.example", "reject.example", "reject", "quarantine", "100", "reject", "fail",
                "fail", "reject.example:s1:fail", "mailer.example:mfrom:pass", "mailto:dmarc@reject.example"));
        Document report = validDocument(write().get(0).file());
        assertEquals("1.0", text(report, "/feedback/version"));
        assertEquals("Postern Test", text(report, "/feedback/report_metadata/org_name"));
        assertEquals("dmarc-reports@mx.postern.test", text(report, "/feedback/report_metadata/email"));
        assertEquals("https://postern.test/dmarc", text(report, "/feedback/report_metadata/extra_contact_info"));
        assertEquals("2026-12-03.reject.example", text(report, "/feedback/report_metadata/report_id"));
        assertEquals(Long.toString(BEGIN), text(report, "/feedback/report_metadata/date_range/begin"));
        assertEquals(Long.toString(END), text(report, "/feedback/report_metadata/date_range/end"));
        assertEquals("reject.example r s reject quarantine 100 1", String.join(" ", text(report, "//policy_published/domain"),
                text(report, "//adkim"), text(report, "//aspf"), text(report, "//policy_published/p"),
                text(report, "//policy_published/sp"), text(report, "//pct"), text(report, "//fo")));
        assertEquals("192.0.2.1 1 reject fail fail", String.join(" ", text(report, "//row/source_ip"),
                text(report, "//row/count"), text(report, "//policy_evaluated/disposition"),
                text(report, "//policy_evaluated/dkim"), text(report, "//policy_evaluated/spf")));
        assertEquals("postern.test mailer.example reject.example", String.join(" ", text(report, "//identifiers/envelope_to"),
                text(report, "//identifiers/envelope_from"), text(report, "//identifiers/header_from")));
        assertEquals("reject.example s1 fail", String.join(" ", text(report, "//auth_results/dkim/domain"),
                text(report, "//auth_results/dkim/selector"), text(report, "//auth_results/dkim/result")));
        assertEquals("mailer.example mfrom pass", String.join(" ", text(report, "//auth_results/spf/domain"),
                text(report, "//auth_results/spf/scope"), text(report, "//auth_results/spf/result")));
    }

    @Test
    void messagesAlikeAreCountedInOneRecordAndAnyDifferenceMakesAnother() throws Exception {
        String aligned = line("192.0.2.1", "reject.example", "reject.example", "reject", "reject", "100", "none", "pass", "fail",
                "reject.example:s1:pass", "mailer.example:mfrom:pass", "mailto:dmarc@reject.example");
        recordsOfTheDay(aligned, aligned, aligned,
                aligned.replace("192.0.2.1", "2001:db8:0:0:0:0:0:1"),
                aligned.replace("reject.example:s1:pass", "reject.example:s2:pass"),
                line("192.0.2.1", "news.reject.example", "reject.example", "reject", "reject", "100", "none", "pass", "fail",
                        "news.reject.example:s1:pass", "mailer.example:mfrom:pass", "mailto:dmarc@reject.example"));
        Report report = write().get(0);
        assertEquals(6, report.messages());
        Document document = validDocument(report.file());
        assertEquals(4, count(document, "/feedback/record"));
        assertEquals("3", text(document, "/feedback/record[1]/row/count"));
        assertEquals("2001:db8:0:0:0:0:0:1 1", text(document, "/feedback/record[2]/row/source_ip") + " "
                + text(document, "/feedback/record[2]/row/count"));
        assertEquals("s2", text(document, "/feedback/record[3]/auth_results/dkim/selector"));
        assertEquals("news.reject.example", text(document, "/feedback/record[4]/identifiers/header_from"));
    }

    @Test
    void aFailureOutsidePctIsReportedAsSampledOutAndTheLastPolicyOfTheDayIsPublished() throws Exception {
        recordsOfTheDay(
                line("192.0.2.1", "half.example", "half.example", "reject", "reject", "100", "reject", "fail", "fail",
                        "", "mailer.example:mfrom:fail", "mailto:dmarc@half.example"),
                line("192.0.2.1", "half.example", "half.example", "reject", "reject", "50", "quarantine", "fail", "fail",
                        "", "mailer.example:mfrom:fail", "mailto:dmarc@half.example"),
                line("192.0.2.1", "sub.half.example", "half.example", "reject", "none", "50", "none", "fail", "fail",
                        "", "", "mailto:dmarc@half.example"));
        Document report = validDocument(write().get(0).file());
        assertEquals("50", text(report, "//policy_published/pct"));
        assertEquals(3, count(report, "/feedback/record"));
        assertEquals(List.of(0, 1, 0), List.of(count(report, "/feedback/record[1]//reason"),
                count(report, "/feedback/record[2]//reason[type='sampled_out']"), count(report, "/feedback/record[3]//reason")));
        // no SPF verdict recorded: the schema wants one, and none is what was found
        assertEquals("mailer.example mfrom none", String.join(" ", text(report, "/feedback/record[3]//spf/domain"),
                text(report, "/feedback/record[3]//spf/scope"), text(report, "/feedback/record[3]//spf/result")));
        assertEquals(0, count(report, "/feedback/record[3]//auth_results/dkim"));
    }

    @Test
    void aFileWrittenBeforeTheFoColumnIsReadWithFoAtItsDefault() throws Exception {
        List<String> oldColumns = AggregateRecords.COLUMNS.subList(0, AggregateRecords.COLUMNS.size() - 1);
        String oldLine = line("192.0.2.1", "reject.example", "reject.example", "reject", "reject", "100", "reject", "fail",
                "fail", "", "mailer.example:mfrom:pass", "mailto:dmarc@reject.example");
        Files.write(records.resolve("dmarc-2026-12-03.tsv"),
                List.of(String.join("\t", oldColumns), oldLine.substring(0, oldLine.lastIndexOf('\t'))));
        Document report = validDocument(write().get(0).file());
        assertEquals("0", text(report, "//policy_published/fo"));
        assertEquals("mailto:dmarc@reject.example", write().get(0).destinations());
    }

    @Test
    void textIsEscapedAndTheSchemaRefusesWhatItShould() throws Exception {
        recordsOfTheDay(line("192.0.2.1", "reject.example", "reject.example", "reject", "reject", "100", "reject", "fail", "fail",
                "", "mailer.example:mfrom:pass", "mailto:dmarc@reject.example"));
        Path file = AggregateReports.write(records, DAY, new Reporter("A & B <Mail>", "postmaster@mx.postern.test", ""),
                records.resolve("reports")).get(0).file();
        Document report = validDocument(file);
        assertEquals("A & B <Mail>", text(report, "//org_name"));
        assertEquals(0, count(report, "//extra_contact_info"));
        // the validation above is worth something: the same report without its required SPF result is refused
        String broken = new String(gunzip(file), StandardCharsets.UTF_8).replaceAll("(?s)<spf>\\s*<domain>.*?</spf>", "");
        assertThrows(SAXException.class, () -> SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI)
                .newSchema(AggregateReportsTest.class.getResource("/rfc7489-appendix-c.xsd")).newValidator()
                .validate(new StreamSource(new ByteArrayInputStream(broken.getBytes(StandardCharsets.UTF_8)))));
    }

    @Test
    void aDayWithoutRecordsGetsNoReport() throws Exception {
        assertEquals(List.of(), write());
        assertFalse(Files.exists(records.resolve("reports")));
        recordsOfTheDay();
        assertEquals(List.of(), write());
    }

    @Test
    void theCommandReportsYesterdayByDefaultAndListsEachReportWithItsDestinations() throws Exception {
        recordsOfTheDay(line("192.0.2.1", "reject.example", "reject.example", "reject", "reject", "100", "reject", "fail",
                "fail", "", "mailer.example:mfrom:pass", "mailto:dmarc@reject.example"));
        DmarcReports commands = new DmarcReports(TestConfig.of(Dmarc.Config.class, Map.of("report_org_name", "mx.postern.test")),
                records, Clock.fixed(Instant.parse("2026-12-04T01:00:00Z"), ZoneOffset.UTC));
        String expected = "1 DMARC aggregate report for 2026-12-03 in " + records.resolve("reports") + " (listed in rua-2026-12-03.tsv):\n"
                + " mx.postern.test!reject.example!1796256000!1796342399.xml.gz  1 message  mailto:dmarc@reject.example";
        assertEquals(expected, commands.report());
        assertEquals(expected, commands.report("2026-12-03"));
        assertEquals("No DMARC records for 2026-12-02 under a policy with rua.", commands.report("2026-12-02"));
        assertEquals("postmaster@mx.postern.test", text(validDocument(records.resolve("reports")
                .resolve("mx.postern.test!reject.example!1796256000!1796342399.xml.gz")), "//email"));
    }

    @Test
    void theReporterDefaultsToThisHostAndItsPostmaster() {
        Reporter reporter = new DmarcReports(TestConfig.of(Dmarc.Config.class, Map.of()), records, Clock.systemUTC()).reporter();
        assertFalse(reporter.orgName().isEmpty());
        assertEquals("postmaster@" + reporter.orgName(), reporter.email());
        assertEquals(reporter.orgName(), reporter.receiver());
        assertEquals("example.org", new DmarcReports(TestConfig.of(Dmarc.Config.class, Map.of("report_email", "dmarc@example.org")),
                records, Clock.systemUTC()).reporter().receiver());
    }

    @Test
    void theDailyRunStartsAtTheNextReportHourUtc() {
        DmarcReports reports = new DmarcReports(TestConfig.of(Dmarc.Config.class, Map.of("report_hour", 3)), records,
                Clock.fixed(Instant.parse("2026-12-04T01:30:00Z"), ZoneOffset.UTC));
        assertEquals(Duration.ofMinutes(90), reports.untilNext(3));
        assertEquals(Duration.ofMinutes(22 * 60 + 30), reports.untilNext(0));
        reports.deactivate();
    }
}
