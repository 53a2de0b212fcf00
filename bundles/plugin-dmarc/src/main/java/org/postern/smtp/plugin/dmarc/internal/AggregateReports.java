package org.postern.smtp.plugin.dmarc.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

/**
 * Turns a day's {@link AggregateRecords} into DMARC aggregate reports (RFC 7489 7.2, Appendix C): one gzipped XML
 * file per policy domain whose policy names {@code rua}, named {@code receiver!policy-domain!begin!end.xml.gz}
 * (7.2.1.1), with a {@code rua-YYYY-MM-DD.tsv} listing each report and the destinations it is for. The records are
 * read line by line and counted per group of messages a {@code <record>} describes alike, so memory grows with the
 * number of such groups, not with the number of messages.
 */
final class AggregateReports {
    /** Who reports (report_metadata); the domain of {@code email} is the receiver the files are named after. */
    record Reporter(String orgName, String email, String extraContactInfo) {
        String receiver() {
            return email.substring(email.lastIndexOf('@') + 1);
        }
    }

    /** A report written: its policy domain, its file, the {@code rua} of its policy, the messages it counts. */
    record Report(String policyDomain, Path file, String destinations, long messages) {
    }

    /** Messages one {@code <record>} counts: they share everything it says of them. */
    private record Group(String sourceIp, String headerFrom, String envelopeFrom, String envelopeTo, String disposition,
            String dkimAligned, String spfAligned, boolean sampledOut, String dkim, String spf) {
    }

    /** A policy domain's day: the columns of the policy as last evaluated, and its messages per group. */
    private static final class PolicyDay {
        Map<String, String> policy;
        final Map<Group, Long> counts = new LinkedHashMap<>();
    }

    private AggregateReports() {
    }

    /** The reports of the day's records, in {@code reportsFolder}; none when the day has no records. */
    static List<Report> write(Path recordsFolder, LocalDate day, Reporter reporter, Path reportsFolder) throws IOException {
        Path records = recordsFolder.resolve(AggregateRecords.fileName(day));
        if (!Files.exists(records)) {
            return List.of();
        }
        Map<String, PolicyDay> days = read(records);
        if (days.isEmpty()) {
            return List.of();
        }
        long begin = day.atStartOfDay(ZoneOffset.UTC).toEpochSecond();
        long end = begin + 86_399;
        List<Report> reports = new ArrayList<>();
        StringBuilder manifest = new StringBuilder("file\tpolicy_domain\tmessages\trua\n");
        Files.createDirectories(reportsFolder);
        for (Map.Entry<String, PolicyDay> entry : days.entrySet()) {
            String domain = entry.getKey();
            Path file = reportsFolder.resolve(reporter.receiver() + "!" + domain + "!" + begin + "!" + end + ".xml.gz");
            Path partial = reportsFolder.resolve(file.getFileName() + ".part");
            try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(partial))) {
                writeXml(out, reporter, day + "." + domain, begin, end, domain, entry.getValue());
            }
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Report report = new Report(domain, file, entry.getValue().policy.get("rua"),
                    entry.getValue().counts.values().stream().mapToLong(Long::longValue).sum());
            reports.add(report);
            manifest.append(file.getFileName()).append('\t').append(domain).append('\t').append(report.messages()).append('\t')
                    .append(report.destinations()).append('\n');
        }
        Files.writeString(reportsFolder.resolve("rua-" + day + ".tsv"), manifest, StandardCharsets.UTF_8);
        return reports;
    }

    /** The policy domains of the file whose policy named {@code rua}, sorted by name. */
    private static Map<String, PolicyDay> read(Path records) throws IOException {
        Map<String, PolicyDay> days = new TreeMap<>();
        try (BufferedReader reader = Files.newBufferedReader(records, StandardCharsets.UTF_8)) {
            String heading = reader.readLine();
            if (heading == null) {
                return days;
            }
            Map<String, Integer> columns = new HashMap<>();
            String[] names = heading.split("\t");
            for (int i = 0; i < names.length; i++) {
                columns.put(names[i], i);
            }
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                Map<String, String> record = record(columns, line.split("\t", -1));
                if (record.get("policy_domain").isEmpty() || record.get("rua").isEmpty()) {
                    continue;
                }
                PolicyDay day = days.computeIfAbsent(record.get("policy_domain"), domain -> new PolicyDay());
                day.policy = record;
                day.counts.merge(group(record), 1L, Long::sum);
            }
        }
        return days;
    }

    /** A line's values by column name, those its file has no column for (an older file) at their default. */
    private static Map<String, String> record(Map<String, Integer> columns, String[] values) {
        Map<String, String> record = new HashMap<>();
        for (String column : AggregateRecords.COLUMNS) {
            Integer index = columns.get(column);
            record.put(column, index != null && index < values.length ? values[index] : "");
        }
        if (record.get("fo").isEmpty()) {
            record.put("fo", "0");
        }
        return record;
    }

    private static Group group(Map<String, String> record) {
        boolean passed = record.get("dkim_aligned").equals("pass") || record.get("spf_aligned").equals("pass");
        String applicable = record.get("header_from").equals(record.get("policy_domain")) ? record.get("p") : record.get("sp");
        // a failing message whose disposition is below its policy's was outside pct (RFC 7489 6.6.4)
        boolean sampledOut = !passed && !record.get("disposition").equals(applicable);
        return new Group(record.get("source_ip").replaceFirst("%.*", ""), record.get("header_from"), record.get("envelope_from"),
                record.get("envelope_to"), record.get("disposition"), record.get("dkim_aligned"), record.get("spf_aligned"),
                sampledOut, record.get("dkim"), record.get("spf"));
    }

    private static void writeXml(OutputStream out, Reporter reporter, String reportId, long begin, long end, String domain,
            PolicyDay day) throws IOException {
        try {
            Xml xml = new Xml(XMLOutputFactory.newDefaultFactory().createXMLStreamWriter(out, "UTF-8"));
            xml.writer.writeStartDocument("UTF-8", "1.0");
            xml.open("feedback");
            xml.element("version", "1.0");
            xml.open("report_metadata");
            xml.element("org_name", reporter.orgName());
            xml.element("email", reporter.email());
            if (!reporter.extraContactInfo().isEmpty()) {
                xml.element("extra_contact_info", reporter.extraContactInfo());
            }
            xml.element("report_id", reportId);
            xml.open("date_range");
            xml.element("begin", Long.toString(begin));
            xml.element("end", Long.toString(end));
            xml.close();
            xml.close();
            xml.open("policy_published");
            xml.element("domain", domain);
            for (String tag : List.of("adkim", "aspf", "p", "sp", "pct", "fo")) {
                xml.element(tag, day.policy.get(tag));
            }
            xml.close();
            for (Map.Entry<Group, Long> entry : day.counts.entrySet()) {
                writeRecord(xml, entry.getKey(), entry.getValue());
            }
            xml.close();
            xml.writer.writeCharacters("\n");
            xml.writer.writeEndDocument();
            xml.writer.close();
        } catch (XMLStreamException e) {
            throw new IOException(e);
        }
    }

    private static void writeRecord(Xml xml, Group group, long count) throws XMLStreamException {
        xml.open("record");
        xml.open("row");
        xml.element("source_ip", group.sourceIp());
        xml.element("count", Long.toString(count));
        xml.open("policy_evaluated");
        xml.element("disposition", group.disposition());
        xml.element("dkim", group.dkimAligned());
        xml.element("spf", group.spfAligned());
        if (group.sampledOut()) {
            xml.open("reason");
            xml.element("type", "sampled_out");
            xml.close();
        }
        xml.close();
        xml.close();
        xml.open("identifiers");
        if (!group.envelopeTo().isEmpty()) {
            xml.element("envelope_to", group.envelopeTo());
        }
        xml.element("envelope_from", group.envelopeFrom());
        xml.element("header_from", group.headerFrom());
        xml.close();
        xml.open("auth_results");
        for (String signature : split(group.dkim())) {
            String[] parts = signature.split(":", 3);
            xml.open("dkim");
            xml.element("domain", parts[0]);
            xml.element("selector", parts.length > 1 ? parts[1] : "");
            xml.element("result", parts.length > 2 ? parts[2] : "none");
            xml.close();
        }
        // Appendix C: "There will always be at least one SPF result"; without one, SPF was not checked: none
        String[] spf = group.spf().isEmpty() ? new String[] {group.envelopeFrom(), "mfrom", "none"} : group.spf().split(":", 3);
        xml.open("spf");
        xml.element("domain", spf[0]);
        xml.element("scope", spf.length > 1 ? spf[1] : "mfrom");
        xml.element("result", spf.length > 2 ? spf[2] : "none");
        xml.close();
        xml.close();
        xml.close();
    }

    private static List<String> split(String list) {
        return list.isEmpty() ? List.of() : List.of(list.split(","));
    }

    /** Elements indented two spaces a level, for people who open a report. */
    private static final class Xml {
        final XMLStreamWriter writer;
        private int depth;

        Xml(XMLStreamWriter writer) {
            this.writer = writer;
        }

        void open(String name) throws XMLStreamException {
            indent();
            writer.writeStartElement(name);
            depth++;
        }

        void close() throws XMLStreamException {
            depth--;
            indent();
            writer.writeEndElement();
        }

        void element(String name, String text) throws XMLStreamException {
            indent();
            writer.writeStartElement(name);
            writer.writeCharacters(text);
            writer.writeEndElement();
        }

        private void indent() throws XMLStreamException {
            writer.writeCharacters("\n" + "  ".repeat(depth));
        }
    }
}
