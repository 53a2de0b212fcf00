package org.postern.smtp.itests;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real rspamd (Debian's package) for tests: Debian's rules with a top-level configuration of the test's own, in its
 * folder: one normal worker on a loopback port, no controller or proxy, no Redis, and the modules that ask the network
 * (DNS lists, SPF, DKIM checks, fuzzy, maps) turned off, so that every answer follows from the message alone. Rules of
 * its own give each action for a word in the subject, a reject for a marker anywhere in the message, and DKIM
 * signatures for example.org with a key rspamadm makes.
 */
final class Rspamd implements AutoCloseable {
    /** The GTUBE test string, which rspamd rejects with the reply "Gtube pattern". */
    static final String GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
    /** A subject with this scores 5: greylist (rspamd's default threshold 4). */
    static final String GREYLIST = "rspamd-greylist";
    /** A subject with this scores 7: add header (6). */
    static final String ADD_HEADER = "rspamd-add-header";
    /** A subject with this scores 10: rewrite subject (9 here). */
    static final String REWRITE_SUBJECT = "rspamd-rewrite-subject";
    /** A subject with this is soft rejected by force_actions with {@link #SOFT_REJECT_MESSAGE}. */
    static final String SOFT_REJECT = "rspamd-soft-reject";
    static final String SOFT_REJECT_MESSAGE = "Come back later, says rspamd";
    /** This anywhere in a message, the last line included, makes force_actions reject it with {@link #MARKER_MESSAGE}. */
    static final String MARKER = "POSTERN-MARKER-FOR-RSPAMD";
    static final String MARKER_MESSAGE = "The marker gave it away";
    /**
     * Compiled Hyperscan databases (rspamd's URL suffixes take some 15 s to compile): kept between runs under target/,
     * named by their content's hash, so that only the first run waits.
     */
    private static final Path HYPERSCAN_CACHE = Path.of("target", "rspamd-hyperscan-cache").toAbsolutePath();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    final Path folder;
    final int port;
    private final HttpClient http = HttpClient.newHttpClient();
    private Process process;

    private Rspamd(Path folder, int port) {
        this.folder = folder;
        this.port = port;
    }

    static Rspamd start() throws Exception {
        Path folder = Files.createTempDirectory("rspamd");
        Rspamd rspamd = new Rspamd(folder, ServerProcess.freePort());
        rspamd.configure();
        rspamd.run();
        return rspamd;
    }

    private void configure() throws Exception {
        Files.createDirectories(HYPERSCAN_CACHE);
        Path local = Files.createDirectories(folder.resolve("local.d"));
        Path override = Files.createDirectories(folder.resolve("override.d"));
        Files.createDirectories(folder.resolve("db"));
        Files.writeString(folder.resolve("rspamd.conf"), String.join("\n",
                ".include \"$CONFDIR/common.conf\"",
                "options {",
                "    pidfile = \"" + folder.resolve("rspamd.pid") + "\";",
                "    .include \"$CONFDIR/options.inc\"",
                "    .include(try=true; priority=1,duplicate=merge) \"$LOCAL_CONFDIR/local.d/options.inc\"",
                "}",
                "logging { type = \"console\"; level = \"notice\"; }",
                "worker \"normal\" {",
                "    bind_socket = \"127.0.0.1:" + port + "\";",
                "    count = 1;",
                "    .include \"$CONFDIR/worker-normal.inc\"",
                "}",
                ""));
        // no DNS answers here: a nameserver that refuses at once, and the generous task timeout a large message needs
        Files.writeString(local.resolve("options.inc"), "dns { nameserver = [\"127.0.0.1:1\"]; }\ntask_timeout = 25s;\n"
                + "hs_cache_dir = \"" + HYPERSCAN_CACHE + "\";\n");
        for (String module : List.of("rbl", "surbl", "spf", "dkim", "dmarc", "arc", "fuzzy_check", "asn", "phishing", "mx_check",
                "rspamd_update", "url_redirector", "hfilter", "emails", "whitelist", "reputation", "neural", "ratelimit",
                "greylist", "replies", "dcc", "mime_types", "mid")) {
            Files.writeString(local.resolve(module + ".conf"), "enabled = false;\n");
        }
        Files.writeString(local.resolve("actions.conf"), "rewrite_subject = 9;\nsubject = \"***SPAM*** %s\";\n");
        StringBuilder multimap = new StringBuilder();
        multimap.append(subjectRule("POSTERN_GREYLIST", GREYLIST, 5)).append(subjectRule("POSTERN_ADD_HEADER", ADD_HEADER, 7))
                .append(subjectRule("POSTERN_REWRITE_SUBJECT", REWRITE_SUBJECT, 10)).append(subjectRule("POSTERN_SOFT_REJECT", SOFT_REJECT, 0));
        Files.writeString(folder.resolve("marker.map"), "/" + MARKER + "/\n");
        multimap.append("POSTERN_MARKER { type = \"content\"; filter = \"full\"; regexp = true; map = \"")
                .append(folder.resolve("marker.map")).append("\"; score = 0.0; }\n");
        // replaces Debian's multimap rules, whose maps would be downloaded
        Files.writeString(override.resolve("multimap.conf"), multimap);
        Files.writeString(local.resolve("force_actions.conf"), "rules {\n"
                + "  POSTERN_SOFT_REJECT { action = \"soft reject\"; expression = \"POSTERN_SOFT_REJECT\"; message = \"" + SOFT_REJECT_MESSAGE + "\"; }\n"
                + "  POSTERN_MARKER { action = \"reject\"; expression = \"POSTERN_MARKER\"; message = \"" + MARKER_MESSAGE + "\"; }\n}\n");
        Files.writeString(local.resolve("milter_headers.conf"), "use = [\"x-spam-status\", \"x-rspamd-queue-id\"];\n"
                + "skip_local = false;\nskip_authenticated = false;\n");
        Path key = folder.resolve("example.org.postern.key");
        DistributionIT.run(0, "rspamadm", "dkim_keygen", "-d", "example.org", "-s", "postern", "-k", key.toString());
        Files.writeString(local.resolve("dkim_signing.conf"), "path = \"" + folder + "/$domain.$selector.key\";\n"
                + "selector = \"postern\";\nallow_username_mismatch = true;\n");
    }

    private String subjectRule(String symbol, String word, double score) throws IOException {
        Path map = folder.resolve(symbol.toLowerCase() + ".map");
        Files.writeString(map, "/" + word + "/i\n");
        return symbol + " { type = \"header\"; header = \"Subject\"; regexp = true; map = \"" + map + "\"; score = " + score + "; }\n";
    }

    private void run() throws Exception {
        // -f: in the foreground, as the test's child; -i: the tests may run as root, which rspamd refuses without it
        process = new ProcessBuilder("/usr/bin/rspamd", "-f", "-i", "-c", folder.resolve("rspamd.conf").toString(),
                "--var=CONFDIR=/etc/rspamd", "--var=LOCAL_CONFDIR=" + folder, "--var=DBDIR=" + folder.resolve("db"),
                "--var=RUNDIR=" + folder)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(folder.resolve("rspamd.out").toFile())).start();
        long deadline = System.currentTimeMillis() + START_TIMEOUT.toMillis();
        while (!pong()) {
            if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                stop();
                throw new AssertionError("rspamd did not start:\n" + Files.readString(folder.resolve("rspamd.out")));
            }
            Thread.sleep(200);
        }
    }

    private boolean pong() throws InterruptedException {
        try {
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ping"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return answer.body().strip().equals("pong");
        } catch (IOException notYet) {
            return false;
        }
    }

    /** Stops rspamd, its workers with it, as an administrator or a crash would take it away. */
    void stop() throws InterruptedException {
        List<ProcessHandle> workers = process.descendants().toList();
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        for (ProcessHandle worker : workers) {
            worker.destroyForcibly();
        }
    }

    /** Starts rspamd again on the same port. */
    void restart() throws Exception {
        run();
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
