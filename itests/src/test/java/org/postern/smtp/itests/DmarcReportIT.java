package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.SchemaFactory;
import javax.xml.xpath.XPathFactory;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.postern.smtp.testkit.Dnsmasq;
import org.w3c.dom.Document;

/**
 * DMARC aggregate reports from the records the dmarc plugin keeps, as the console's {@code dmarc:report} writes them:
 * the distribution with sender_permitted_from and dmarc against dnsmasq serving SPF and DMARC policies, some with
 * rua; messages sent, then today's reports asked for. Each report is checked against RFC 7489 Appendix C's schema
 * (the plugin's test copy) and read back by Mail::DMARC 1.2021's receiver (Debian's libmail-dmarc-perl), which
 * stores it in an SQLite store of the test's own, as a domain owner's report mailbox would.
 */
public class DmarcReportIT {
    private static final String SPF_PERMITS_LOOPBACK = "v=spf1 ip4:127.0.0.1 -all";
    /**
     * Gives a report file to Mail::DMARC as a rua mailbox receives it, an application/gzip attachment, which it
     * parses and saves; prints what it read.
     */
    private static final String MAIL_DMARC_RECEIVE = """
            use strict;
            use warnings;
            use Email::MIME;
            use Email::Simple;
            use File::Basename qw(basename);
            use Mail::DMARC::Report::Receive;

            my ($file) = @ARGV;
            open my $in, '<:raw', $file or die "$file: $!";
            my $gzip = do { local $/; <$in> };
            my $name = basename($file);
            my $email = Email::MIME->create(
                header_str => [From => 'reporter@example.org', To => 'dmarc@example.org', Subject => 'DMARC aggregate report'],
                parts => [Email::MIME->create(
                    attributes => {content_type => 'application/gzip', name => $name, filename => $name,
                        disposition => 'attachment', encoding => 'base64'},
                    body => $gzip)]);
            my $receiver = Mail::DMARC::Report::Receive->new;
            my $type = $receiver->from_email_simple(Email::Simple->new($email->as_string));
            my $aggregate = $receiver->report->aggregate;
            my $meta = $aggregate->metadata;
            my $policy = $aggregate->policy_published;
            print "type $type\\n";
            print join(' ', 'metadata', map { $meta->$_ // '' } qw(org_name email report_id begin end)), "\\n";
            print join(' ', 'policy', map { $policy->$_ // '' } qw(domain adkim aspf p sp pct)), "\\n";
            for my $record (@{$aggregate->record}) {
                my $row = $record->row;
                my $ids = $record->identifiers;
                print join(' ', 'record', $row->source_ip, $row->count, map({ $row->policy_evaluated->$_ } qw(disposition dkim spf)),
                    map({ $ids->$_ // '' } qw(header_from envelope_from envelope_to)),
                    map({ "dkim=$_->{domain}:$_->{selector}:$_->{result}" } @{$record->auth_results->dkim}),
                    map({ "spf=$_->{domain}:$_->{scope}:$_->{result}" } @{$record->auth_results->spf})), "\\n";
            }
            """;

    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static Dnsmasq dns;
    private static ServerProcess postern;

    @BeforeClass
    public static void startDnsAndServer() throws Exception {
        // dnsmasq takes a comma for the start of another string of the record, unless quoted, as a file of its own lets it be
        Path twoDestinations = Files.createTempFile("dmarc-report", ".conf");
        Files.writeString(twoDestinations, "txt-record=_dmarc.report-reject.com,\"v=DMARC1; p=reject; adkim=s; fo=1; "
                + "rua=mailto:agg@report-reject.com,mailto:copy@reports.example.net\"\n");
        dns = Dnsmasq.start("--local=/com/", "--conf-file=" + twoDestinations,
                "--txt-record=report-pass.com," + SPF_PERMITS_LOOPBACK,
                "--txt-record=_dmarc.report-pass.com,v=DMARC1; p=reject; rua=mailto:dmarc@report-pass.com",
                "--txt-record=report-other.com," + SPF_PERMITS_LOOPBACK,
                "--txt-record=_dmarc.report-silent.com,v=DMARC1; p=reject");
        postern = SERVERS.add(ServerProcess.posternWithPlugins("dmarc-report", Map.of(
                "org.postern.dns.cfg", "nameservers = " + dns.address() + "\ntimeout.ms = 2000\nhosts.file = false",
                "org.postern.smtp.plugin.sender_permitted_from.cfg", "reject = 1",
                "org.postern.smtp.plugin.dmarc.cfg", "report_org_name = Postern IT\nreport_email = dmarc-reports@mx.postern.test\n"
                        + "report_extra_contact_info = https://mx.postern.test/dmarc"),
                List.of("plugin-sender-permitted-from", "plugin-dmarc"), "--console")).awaitPlugin("dmarc");
    }

    @AfterClass
    public static void stopDns() throws InterruptedException {
        if (dns != null) {
            dns.close();
        }
    }

    /** One session sending a message from the sender with each From; the replies to their final dots. */
    private static List<String> send(String sender, String... froms) throws Exception {
        List<String> replies = new ArrayList<>();
        try (SmtpClient client = new SmtpClient(postern.port)) {
            client.reply();
            client.command("EHLO client.example");
            for (String from : froms) {
                client.command("MAIL FROM:<" + sender + ">");
                client.command("RCPT TO:<b@localhost>");
                client.command("DATA");
                client.send("From: " + from + "\r\nSubject: report\r\n\r\nbody\r\n.\r\n");
                replies.add(ClientScript.comparable(client.reply()));
            }
        }
        return replies;
    }

    private static long recordLines(Path file) throws Exception {
        return Files.exists(file) ? Files.readAllLines(file).size() - 1 : 0;
    }

    private static byte[] gunzip(Path file) throws Exception {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return in.readAllBytes();
        }
    }

    /** The report's XML, once the RFC's schema has validated it. */
    private static Document validReport(Path file) throws Exception {
        byte[] xml = gunzip(file);
        Path schema = Path.of(System.getProperty("postern.bundles"), "plugin-dmarc/src/test/resources/rfc7489-appendix-c.xsd");
        SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI).newSchema(schema.toFile()).newValidator()
                .validate(new StreamSource(new ByteArrayInputStream(xml)));
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(xml));
    }

    private static String text(Document document, String path) throws Exception {
        return XPathFactory.newInstance().newXPath().evaluate(path, document);
    }

    /** What Mail::DMARC read from the report, and the exit status of its run, stored in an SQLite file of its own. */
    private static List<String> readByMailDmarc(Path report) throws Exception {
        Path folder = Files.createTempDirectory("mail-dmarc");
        Path script = Files.writeString(folder.resolve("receive.pl"), MAIL_DMARC_RECEIVE);
        Path config = Files.writeString(folder.resolve("mail-dmarc.ini"), "[organization]\ndomain = example.org\n"
                + "org_name = Example\nemail = dmarc@example.org\n[report_store]\nbackend = SQL\n"
                + "dsn = dbi:SQLite:dbname=" + folder.resolve("reports.sqlite") + "\nuser =\npass =\n");
        ProcessBuilder perl = new ProcessBuilder("perl", script.toString(), report.toString()).redirectErrorStream(true);
        perl.environment().put("MAIL_DMARC_CONFIG_FILE", config.toString());
        Process process = perl.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(output, process.waitFor(60, TimeUnit.SECONDS));
        assertTrue(output, Files.size(folder.resolve("reports.sqlite")) > 0);
        return Stream.concat(output.lines().filter(line -> !line.equals("dmarc aggregate report")),
                Stream.of("exit " + process.exitValue())).toList();
    }

    @Test
    public void theConsoleWritesOneReportPerPolicyDomainWithRuaThatMailDmarcReads() throws Exception {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        Path records = postern.base.resolve("data/dmarc/dmarc-" + today + ".tsv");
        assertEquals(List.of("250 Queued", "250 Queued"), send("a@report-pass.com", "alice@report-pass.com", "bob@report-pass.com")
                .stream().map(reply -> reply.replaceFirst(" as .*", "")).toList());
        assertEquals(List.of("552 failed DMARC policy", "552 failed DMARC policy"),
                send("a@report-other.com", "ceo@report-reject.com", "x@report-silent.com"));
        // the plugin writes records on a thread of its own, after the reply
        long deadline = System.currentTimeMillis() + 10_000;
        while (recordLines(records) < 3 && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(3, recordLines(records));

        postern.type("dmarc:report " + today);
        long begin = today.atStartOfDay(ZoneOffset.UTC).toEpochSecond();
        String pass = "mx.postern.test!report-pass.com!" + begin + "!" + (begin + 86_399) + ".xml.gz";
        String reject = "mx.postern.test!report-reject.com!" + begin + "!" + (begin + 86_399) + ".xml.gz";
        postern.awaitLogged(" " + reject + "  1 message  mailto:agg@report-reject.com,mailto:copy@reports.example.net");
        assertTrue(postern.log(), postern.log().contains("2 DMARC aggregate reports for " + today + " in "));
        assertTrue(postern.log(), postern.log().contains(" " + pass + "  2 messages  mailto:dmarc@report-pass.com"));
        Path folder = postern.base.resolve("data/dmarc/reports");
        try (Stream<Path> files = Files.list(folder)) {
            assertEquals(List.of(pass, reject, "rua-" + today + ".tsv"),
                    files.map(file -> file.getFileName().toString()).sorted().toList());
        }

        Document passReport = validReport(folder.resolve(pass));
        assertEquals("Postern IT dmarc-reports@mx.postern.test https://mx.postern.test/dmarc " + today + ".report-pass.com",
                String.join(" ", text(passReport, "//org_name"), text(passReport, "//report_metadata/email"),
                        text(passReport, "//extra_contact_info"), text(passReport, "//report_id")));
        assertEquals("1", text(passReport, "count(/feedback/record)"));
        assertEquals("127.0.0.1 2 none fail pass report-pass.com report-pass.com localhost report-pass.com mfrom pass",
                String.join(" ", text(passReport, "//source_ip"), text(passReport, "//count"), text(passReport, "//disposition"),
                        text(passReport, "//policy_evaluated/dkim"), text(passReport, "//policy_evaluated/spf"),
                        text(passReport, "//header_from"), text(passReport, "//envelope_from"), text(passReport, "//envelope_to"),
                        text(passReport, "//auth_results/spf/domain"), text(passReport, "//auth_results/spf/scope"),
                        text(passReport, "//auth_results/spf/result")));

        Document rejectReport = validReport(folder.resolve(reject));
        assertEquals("report-reject.com s r reject reject 100 1", String.join(" ", text(rejectReport, "//policy_published/domain"),
                text(rejectReport, "//adkim"), text(rejectReport, "//aspf"), text(rejectReport, "//policy_published/p"),
                text(rejectReport, "//policy_published/sp"), text(rejectReport, "//pct"), text(rejectReport, "//fo")));

        assertEquals(List.of("type aggregate",
                "metadata Postern IT dmarc-reports@mx.postern.test " + today + ".report-reject.com " + begin + " " + (begin + 86_399),
                "policy report-reject.com s r reject reject 100",
                "record 127.0.0.1 1 reject fail fail report-reject.com report-other.com localhost spf=report-other.com:mfrom:pass",
                "exit 0"), readByMailDmarc(folder.resolve(reject)));
    }
}
