package org.postern.smtp.itests;

import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.RSAPublicKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.Rule;
import org.junit.Test;
import org.postern.mailauth.dkim.Canonicalization;
import org.postern.mailauth.dkim.DkimSigner;
import org.postern.mailauth.dkim.KeyRecord;
import org.postern.mailauth.dkim.SigningKey;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.testkit.Dnsmasq;

/**
 * The content plugins' cost, measured through the distribution against the real daemons (not a test: failsafe runs
 * only *IT classes; run it with {@code mvn -B -o verify -pl itests -Dit.test=ContentChainBenchmark}). One Postern per
 * plugin, one with none (the baseline) and one with the whole chain run side by side; the client sends DKIM-signed
 * 10 KB messages from example.org (SPF and DMARC published by dnsmasq) in rounds across the servers, one message at a
 * time, and times each from its final dot to the 250: the added latency of a plugin is its server's median minus the
 * baseline's. Then a 20 MB signed message goes three times through the baseline and the whole chain, and the servers'
 * GC logs give the heap after each collection: its highest value while the 20 MB messages passed, against the highest
 * while the 10 KB ones did, is the heap a large message costs (spamassassin skips it: over its max_size). Results go
 * to standard output and target/content-chain-benchmark.txt.
 */
public class ContentChainBenchmark {
    private static final int WARM_UP = 30;
    private static final int ROUNDS = 5;
    private static final int PER_ROUND = 40;
    private static final int LARGE = 20 * 1024 * 1024;
    private static final Pattern GC_AFTER = Pattern.compile("Pause .*->(\\d+)M\\(\\d+M\\)");

    @Rule
    public final ServerGroup servers = new ServerGroup();

    @Test
    public void measure() throws Exception {
        Path work = Files.createTempDirectory("content-bench");
        Milters.generateKey(work);
        SigningKey key = SigningKey.fromPem(Files.readString(work.resolve(Milters.SELECTOR + ".private")));
        RSAPrivateCrtKey rsa = (RSAPrivateCrtKey) key.key();
        String keyRecord = KeyRecord.publish(KeyFactory.getInstance("RSA")
                .generatePublic(new RSAPublicKeySpec(rsa.getModulus(), rsa.getPublicExponent())));
        DkimSigner signer = new DkimSigner(key, Milters.DOMAIN, Milters.SELECTOR, DkimSigner.DEFAULT_FIELDS, Set.of("From"),
                Canonicalization.RELAXED, Canonicalization.RELAXED);

        try (Dnsmasq dns = Dnsmasq.start("--local=/" + Milters.DOMAIN + "/", "--host-record=" + Milters.DOMAIN + ",192.0.2.1",
                "--txt-record=" + Milters.DOMAIN + ",v=spf1 ip4:127.0.0.1 -all",
                "--txt-record=_dmarc." + Milters.DOMAIN + ",v=DMARC1; p=reject",
                Dkimpy.txtRecord(Milters.SELECTOR + "._domainkey." + Milters.DOMAIN, keyRecord));
                Clamd clamd = Clamd.start("30M");
                Spamd spamd = Spamd.start(Map.of());
                Rspamd rspamd = Rspamd.start();
                Milters openDkim = Milters.openDkimVerifier(work);
                Milters clamavMilter = Milters.clamavMilter(clamd)) {
            String resolver = "nameservers = " + dns.address() + "\ntimeout.ms = 2000\nhosts.file = false";
            Map<String, Plugin> plugins = new LinkedHashMap<>();
            plugins.put("virus/clamdscan", new Plugin("plugin-virus-clamdscan", "org.postern.smtp.plugin.virus.clamdscan.cfg",
                    "clamd_host = 127.0.0.1\nclamd_port = " + clamd.port + "\nmax_size = 30720"));
            plugins.put("spamassassin", new Plugin("plugin-spamassassin", "org.postern.smtp.plugin.spamassassin.cfg",
                    "spamd_socket = 127.0.0.1:" + spamd.port));
            plugins.put("rspamd", new Plugin("plugin-rspamd", "org.postern.smtp.plugin.rspamd.cfg",
                    "host = 127.0.0.1\nport = " + rspamd.port + "\ncheck.local_ip = true"));
            plugins.put("milter", new Plugin("plugin-milter", "org.postern.smtp.plugin.milter.cfg",
                    "milter_name = opendkim\nmilter_socket = inet:" + openDkim.port + "@127.0.0.1"));
            Plugin clamavMilterPlugin = new Plugin("plugin-milter", "org.postern.smtp.plugin.milter.cfg",
                    "milter_name = clamav-milter\nmilter_socket = unix:" + clamavMilter.socket);
            plugins.put("sender_permitted_from", new Plugin("plugin-sender-permitted-from",
                    "org.postern.smtp.plugin.sender_permitted_from.cfg", "reject = 1"));
            plugins.put("dkim", new Plugin("mail-auth plugin-dkim", "org.postern.smtp.plugin.dkim.cfg", "reject = 1"));
            plugins.put("arc", new Plugin("plugin-arc", "org.postern.smtp.plugin.arc.cfg", "seal = all\nseal_domain = "
                    + Milters.DOMAIN + "\nseal_selector = " + Milters.SELECTOR + "\nseal_key = " + work.resolve(Milters.SELECTOR + ".private")));
            plugins.put("dmarc", new Plugin("plugin-dmarc", "org.postern.smtp.plugin.dmarc.cfg", "reject = 1"));

            Map<String, Server> measured = new LinkedHashMap<>();
            measured.put("none (baseline)", start(servers, "none", work, resolver, Map.of()));
            for (Map.Entry<String, Plugin> plugin : plugins.entrySet()) {
                Map<String, Plugin> alone = new LinkedHashMap<>();
                if (plugin.getKey().equals("dmarc") || plugin.getKey().equals("arc")) {
                    // DMARC judges what dkim found, and arc needs mail-auth: measured on top of dkim, the cost is the difference
                    alone.put("dkim", plugins.get("dkim"));
                }
                alone.put(plugin.getKey(), plugin.getValue());
                String name = switch (plugin.getKey()) {
                    case "dmarc" -> "dkim + dmarc";
                    case "arc" -> "dkim + arc (sealing)";
                    case "milter" -> "milter (OpenDKIM)";
                    default -> plugin.getKey();
                };
                measured.put(name, start(servers, name.replaceAll("\\W+", "-"), work, resolver, alone));
            }
            measured.put("milter (clamav-milter)", start(servers, "clamav-milter", work, resolver, Map.of("milter", clamavMilterPlugin)));
            measured.put("whole chain", start(servers, "chain", work, resolver, plugins));

            for (Server server : measured.values()) {
                for (int i = 0; i < WARM_UP; i++) {
                    server.send(signed(signer, "warm-up " + i, 10_000), false);
                }
            }
            for (int round = 0; round < ROUNDS; round++) {
                for (Server server : measured.values()) {
                    for (int i = 0; i < PER_ROUND; i++) {
                        server.send(signed(signer, "round " + round + " message " + i, 10_000), true);
                    }
                }
            }
            Server baseline = measured.get("none (baseline)");
            StringBuilder report = new StringBuilder(String.format(Locale.ROOT, "%-24s %10s %10s %12s%n", "plugins", "median ms",
                    "p90 ms", "added ms"));
            for (Map.Entry<String, Server> server : measured.entrySet()) {
                report.append(String.format(Locale.ROOT, "%-24s %10.2f %10.2f %12.2f%n", server.getKey(), server.getValue().percentile(50),
                        server.getValue().percentile(90), server.getValue().percentile(50) - baseline.percentile(50)));
            }

            String large = signed(signer, "twenty megabytes", LARGE);
            report.append(String.format(Locale.ROOT, "%n%-24s %22s %22s %10s %12s%n", "20 MB message", "heap after GC, 10 KB",
                    "heap after GC, 20 MB", "growth MB", "median ms"));
            for (String name : List.of("none (baseline)", "whole chain")) {
                Server server = measured.get(name);
                int small = server.highestHeapAfterGc();
                server.millis.clear();
                for (int i = 0; i < 3; i++) {
                    server.send(large, true);
                }
                int big = server.highestHeapAfterGc();
                report.append(String.format(Locale.ROOT, "%-24s %19d MB %19d MB %10d %12.0f%n", name, small, big, big - small,
                        server.percentile(50)));
            }
            System.out.println(report);
            Files.writeString(Path.of("target", "content-chain-benchmark.txt"), report);
        }
    }

    private record Plugin(String bundles, String cfg, String lines) {
    }

    private static Server start(ServerGroup servers, String name, Path work, String resolver, Map<String, Plugin> plugins)
            throws Exception {
        Map<String, String> etc = new LinkedHashMap<>();
        etc.put("org.postern.dns.cfg", resolver);
        List<String> bundles = new ArrayList<>();
        for (Plugin plugin : plugins.values()) {
            etc.put(plugin.cfg(), plugin.lines());
            bundles.addAll(List.of(plugin.bundles().split(" ")));
        }
        Path gcLog = work.resolve("gc-" + name + ".log");
        ServerProcess process = servers.add(ServerProcess.posternWithPlugins("bench-" + name, "-Xmx512m -Xlog:gc:file=" + gcLog,
                etc, bundles));
        for (String plugin : plugins.keySet()) {
            process.awaitPlugin(plugin);
        }
        return new Server(process, gcLog);
    }

    /** A message from example.org of about {@code size} octets of text, with the DKIM signature of example.org's key. */
    private static String signed(DkimSigner signer, String subject, int size) throws Exception {
        List<HeaderField> header = List.of(new HeaderField("From", " Bench <bench@" + Milters.DOMAIN + ">"),
                new HeaderField("To", " b@localhost"), new HeaderField("Subject", " " + subject),
                new HeaderField("Date", " Thu, 03 Dec 2026 12:00:00 +0000"),
                new HeaderField("Message-ID", " <" + subject.replace(' ', '.') + "@" + Milters.DOMAIN + ">"));
        String line = "The quick brown fox jumps over the lazy dog; 0123456789 abcdefghijklmnopqrstuvwxyz.\r\n";
        String body = line.repeat(Math.max(1, size / line.length()));
        byte[] bodyHash = signer.bodyHash(new java.io.ByteArrayInputStream(body.getBytes(StandardCharsets.US_ASCII)));
        StringBuilder message = new StringBuilder("DKIM-Signature: ").append(signer.sign(header, bodyHash, Instant.now())).append("\r\n");
        header.forEach(field -> message.append(field.name()).append(':').append(field.value()).append("\r\n"));
        return message.append("\r\n").append(body).toString();
    }

    /** One measured server: the latencies from the final dot to the reply, and its GC log. */
    private static final class Server {
        private final ServerProcess process;
        private final Path gcLog;
        private final List<Double> millis = new ArrayList<>();
        private int gcLinesSeen;

        Server(ServerProcess process, Path gcLog) {
            this.process = process;
            this.gcLog = gcLog;
        }

        void send(String message, boolean measured) throws Exception {
            try (SmtpClient client = new SmtpClient(process.port)) {
                client.setTimeoutMillis(120_000);
                client.reply();
                client.command("EHLO client.example");
                client.command("MAIL FROM:<bench@" + Milters.DOMAIN + ">");
                client.command("RCPT TO:<b@localhost>");
                client.command("DATA");
                client.send(message);
                long start = System.nanoTime();
                client.send(".\r\n");
                String reply = client.reply();
                long end = System.nanoTime();
                assertTrue(reply, reply.startsWith("250 "));
                if (measured) {
                    millis.add((end - start) / 1e6);
                }
            }
        }

        double percentile(int percent) {
            List<Double> sorted = millis.stream().sorted().toList();
            return sorted.get(Math.min(sorted.size() - 1, sorted.size() * percent / 100));
        }

        /** The highest heap after a collection, in MB, among the collections logged since the last call. */
        int highestHeapAfterGc() throws Exception {
            List<String> lines = Files.readAllLines(gcLog);
            int highest = 0;
            for (String line : lines.subList(gcLinesSeen, lines.size())) {
                Matcher after = GC_AFTER.matcher(line);
                if (after.find()) {
                    highest = Math.max(highest, Integer.parseInt(after.group(1)));
                }
            }
            gcLinesSeen = lines.size();
            return highest;
        }
    }
}
