package org.postern.smtp.itests;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Real milters from Debian's packages for tests, each in the foreground on a loopback port with a configuration of
 * its own: OpenDKIM signing for example.org with a key made by opendkim-genkey, OpenDKIM verifying with that key's
 * public half given as test DNS data (TestDNSData, so no DNS server is needed), and clamav-milter in front of a clamd.
 */
final class Milters implements AutoCloseable {
    static final String DOMAIN = "example.org";
    static final String SELECTOR = "test";
    /** clamav-milter's reply to a virus, which it sends as SMFIR_REPLYCODE; %v is the virus's name. */
    static final String REJECT_MESSAGE = "Infected with %v, says clamav-milter";

    final Path folder;
    /** The loopback port it listens on, or 0 when it listens on {@link #socket}. */
    final int port;
    final Path socket;
    private final Process process;

    private Milters(Path folder, int port, Path socket, Process process) {
        this.folder = folder;
        this.port = port;
        this.socket = socket;
        this.process = process;
    }

    /** Makes a 2048-bit key for example.org in {@code folder}: test.private, and test.txt with the DNS record. */
    static void generateKey(Path folder) throws Exception {
        DistributionIT.run(0, "opendkim-genkey", "-D", folder.toString(), "-d", DOMAIN, "-s", SELECTOR);
    }

    /** OpenDKIM signing mail from example.org with the key in {@code keys}, for clients on 127.0.0.1 (its InternalHosts). */
    static Milters openDkimSigner(Path keys) throws Exception {
        return openDkim("signer", "s", List.of("Domain " + DOMAIN, "Selector " + SELECTOR, "KeyFile " + keys.resolve(SELECTOR + ".private")));
    }

    /**
     * OpenDKIM verifying, which adds Authentication-Results with its id {@code verifier.test}; the public key is read
     * from test DNS data made from opendkim-genkey's record.
     */
    static Milters openDkimVerifier(Path keys) throws Exception {
        Path dns = keys.resolve("dns-data");
        Files.writeString(dns, SELECTOR + "._domainkey." + DOMAIN + " " + txtRecord(keys.resolve(SELECTOR + ".txt")) + "\n");
        return openDkim("verifier", "v", List.of("TestDNSData file:" + dns, "AuthservID verifier.test", "AlwaysAddARHeader yes"));
    }

    /**
     * The TXT record's text from opendkim-genkey's zone file line: its quoted strings joined, without the spaces between
     * tags (DKIM needs none), so that the value is one word in the data set file.
     */
    private static String txtRecord(Path zoneLine) throws IOException {
        StringBuilder text = new StringBuilder();
        Matcher quoted = Pattern.compile("\"([^\"]*)\"").matcher(Files.readString(zoneLine));
        while (quoted.find()) {
            text.append(quoted.group(1));
        }
        return text.toString().replace(" ", "");
    }

    private static Milters openDkim(String name, String mode, List<String> settings) throws Exception {
        Path folder = Files.createTempDirectory("opendkim-" + name);
        int port = ServerProcess.freePort();
        Files.write(folder.resolve("opendkim.conf"), concat(List.of("Syslog no", "LogWhy yes", "Mode " + mode,
                "Socket inet:" + port + "@127.0.0.1", "Canonicalization relaxed/simple", "RequireSafeKeys no",
                "PidFile " + folder.resolve("opendkim.pid"), "UserID root"), settings));
        return start(folder, port, null, "/usr/sbin/opendkim", "-f", "-l", "-x", folder.resolve("opendkim.conf").toString());
    }

    /**
     * clamav-milter on a Unix socket in its folder, asking clamd over its TCP port: a virus is rejected with
     * {@link #REJECT_MESSAGE}, a clean message gets its X-Virus headers.
     */
    static Milters clamavMilter(Clamd clamd) throws Exception {
        Path folder = Files.createTempDirectory("clamav-milter");
        Path socket = folder.resolve("clamav-milter.ctl");
        Files.write(folder.resolve("clamav-milter.conf"), List.of("MilterSocket unix:" + socket, "MilterSocketMode 666",
                "ClamdSocket tcp:127.0.0.1:" + clamd.port, "Foreground yes", "OnInfected Reject", "RejectMsg " + REJECT_MESSAGE, "OnFail Defer",
                "AddHeader Replace", "LogFile " + folder.resolve("clamav-milter.log"), "LogVerbose yes", "LogInfected Basic",
                "PidFile " + folder.resolve("clamav-milter.pid"), "TemporaryDirectory " + folder));
        return start(folder, 0, socket, "/usr/sbin/clamav-milter", "--config-file=" + folder.resolve("clamav-milter.conf"));
    }

    private static List<String> concat(List<String> first, List<String> second) {
        List<String> all = new ArrayList<>(first);
        all.addAll(second);
        all.add("");
        return all;
    }

    private static Milters start(Path folder, int port, Path socket, String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(folder.resolve("milter.out").toFile()).start();
        Milters milter = new Milters(folder, port, socket, process);
        long deadline = System.currentTimeMillis() + 30_000;
        while (!milter.listening()) {
            if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                milter.close();
                throw new AssertionError(command[0] + " did not start:\n" + milter.output());
            }
            Thread.sleep(100);
        }
        return milter;
    }

    private boolean listening() {
        if (socket != null) {
            try (SocketChannel connection = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                return true;
            } catch (IOException notYet) {
                return false;
            }
        }
        try (Socket connection = new Socket()) {
            connection.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException notYet) {
            return false;
        }
    }

    /** What the milter wrote to its standard output and error. */
    String output() throws IOException {
        return Files.readString(folder.resolve("milter.out"));
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
