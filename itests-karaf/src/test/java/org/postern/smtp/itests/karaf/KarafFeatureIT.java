package org.postern.smtp.itests.karaf;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.maven;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.configureConsole;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.features;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.karafDistributionConfiguration;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.keepRuntimeFolder;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.logLevel;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.inject.Inject;
import org.apache.karaf.features.FeaturesService;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.karaf.options.LogLevelOption.LogLevel;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Apache Karaf 4.4 (minimal, from Maven Central) with Postern's features repository: feature:install postern,
 * then a message over SMTP lands in the Maildir under karaf.data, and the postern: commands answer in Karaf's
 * shell; feature:install postern-auth-jaas, then a user of Karaf's own realm authenticates over SMTP.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class KarafFeatureIT {
    private static int port;
    /** Pax Web's port, free rather than its 8181; chosen where pax-exam configures Karaf, read back inside it. */
    private static final int HTTP_PORT = freePort();
    private static final String HTTP_PORT_KEY = "org.osgi.service.http.port";

    @Inject
    private ConfigurationAdmin configAdmin;

    @Inject
    private SessionFactory shell;

    @Inject
    private FeaturesService featuresService;

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] config() throws IOException {
        return new Option[] {
            karafDistributionConfiguration()
                    .frameworkUrl(maven().groupId("org.apache.karaf").artifactId("apache-karaf-minimal").type("tar.gz").versionAsInProject())
                    .unpackDirectory(new File(System.getProperty("postern.work"), "exam"))
                    .useDeployFolder(false),
            keepRuntimeFolder(),
            configureConsole().ignoreLocalConsole().ignoreRemoteShell(),
            logLevel(LogLevel.WARN),
            features(featuresForThisBuild().toUri().toString(), "postern", "postern-auth-jaas"),
            editConfigurationFilePut("etc/org.ops4j.pax.web.cfg", HTTP_PORT_KEY, Integer.toString(HTTP_PORT)),
        };
    }

    /** Runs a command in Karaf's own shell, as an administrator would type it. */
    private String karafCommand(String command) throws Exception {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
        Session session = shell.create(new ByteArrayInputStream(new byte[0]), out, out);
        try {
            Object result = session.execute(command);
            return result == null ? output.toString(StandardCharsets.UTF_8).strip() : result.toString().strip();
        } finally {
            session.close();
        }
    }

    /**
     * The real features repository, with Postern's own bundles pointed at this build's jars: `mvn verify` does
     * not install them in the local repository where Karaf would look for mvn: URLs.
     */
    private static Path featuresForThisBuild() throws IOException {
        String version = System.getProperty("postern.version");
        String features = Files.readString(Path.of(System.getProperty("postern.features")));
        Matcher bundle = Pattern.compile("mvn:org\\.postern/([a-z0-9-]+)/" + Pattern.quote(version)).matcher(features);
        features = bundle.replaceAll(module -> Matcher.quoteReplacement(
                new File(System.getProperty("postern.bundles"), module.group(1) + "/target/" + module.group(1) + "-" + version + ".jar")
                        .toURI().toString()));
        Path file = Path.of(System.getProperty("postern.work"), "features-for-this-build.xml");
        Files.writeString(file, features);
        return file;
    }

    /**
     * The server's port, chosen once for the Karaf both tests share. As an administrator would: edit the
     * configuration file the feature created in etc/. (Updating ConfigAdmin directly would race with FileInstall
     * applying that file once after the install.) AUTH is offered without STARTTLS, so that the test's client can
     * use it in the clear.
     */
    private int serverPort() throws Exception {
        synchronized (KarafFeatureIT.class) {
            if (port == 0) {
                int free;
                try (ServerSocket socket = new ServerSocket(0)) {
                    free = socket.getLocalPort();
                }
                Path serverConfig = Path.of(System.getProperty("karaf.etc"), "org.postern.smtp.server.cfg");
                String listen = "127.0.0.1:" + free;
                long settle = System.currentTimeMillis() + 30_000;
                while (!Files.exists(serverConfig) && System.currentTimeMillis() < settle) {
                    Thread.sleep(100);
                }
                // the features service may still write the feature's own file after it first appeared: write ours
                // again until ConfigAdmin holds it
                while (!listen.equals(listenConfigured())) {
                    assertTrue("ConfigAdmin never took listen = " + listen, System.currentTimeMillis() < settle);
                    Files.writeString(serverConfig, "listen = " + listen + "\nme = karaf.postern\ntls.before.auth = false\n");
                    long applied = System.currentTimeMillis() + 3_000;
                    while (!listen.equals(listenConfigured()) && System.currentTimeMillis() < applied) {
                        Thread.sleep(100);
                    }
                }
                port = free;
            }
            return port;
        }
    }

    private Object listenConfigured() throws IOException {
        java.util.Dictionary<String, Object> properties = configAdmin.getConfiguration("org.postern.smtp.server", "?").getProperties();
        return properties == null ? null : properties.get("listen");
    }

    @Test
    public void theDefaultFeatureDeliversIntoTheMaildir() throws Exception {
        int port = serverPort();
        String reply = null;
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
                OutputStream out = socket.getOutputStream();
                String greeting = in.readLine();
                assertTrue(greeting, greeting.startsWith("220 karaf.postern"));
                for (String command : new String[] {"HELO karaf.test", "MAIL FROM:<a@example.org>", "RCPT TO:<postmaster@localhost>", "DATA"}) {
                    out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    reply = in.readLine();
                }
                out.write("From: a@example.org\r\nSubject: from Karaf\r\n\r\nHello.\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
                reply = in.readLine();
                break;
            } catch (IOException notYet) {
                Thread.sleep(200);
            }
        }
        assertTrue(String.valueOf(reply), reply != null && reply.startsWith("250 2.0.0 Queued as "));
        Path maildir = Path.of(System.getProperty("karaf.data"), "postern", "maildir", "new");
        try (Stream<Path> files = Files.list(maildir)) {
            assertEquals(1, files.count());
        }

        // Karaf 4.4's shell sessions call Subject.getSubject, which JDK 24 and later no longer support
        org.junit.Assume.assumeTrue("Karaf 4.4's shell does not run on JDK " + Runtime.version().feature(),
                Runtime.version().feature() < 24);
        assertEquals("listening on /127.0.0.1:" + port + " (default)", karafCommand("postern:listeners"));
        assertEquals("127.0.0.1:" + port, configAdmin.getConfiguration("org.postern.smtp.server", "?").getProperties().get("listen"));
        String chains = karafCommand("postern:chains");
        // the rcpt chain of the default set, in order: earlytalker (150), relay (175), rcpt_ok (900)
        assertTrue(chains, Pattern.compile("\nrcpt\n     150  earlytalker .*\n     175  relay .*\n     900  rcpt_ok .*\n")
                .matcher(chains).find());
        assertTrue(karafCommand("postern:counters").contains("         1  messages queued"));
    }

    @Test
    public void authJaasAuthenticatesAUserOfKarafsPropertiesRealm() throws Exception {
        int port = serverPort();
        // a mail user of the realm "karaf", without a role (so not a console user), as etc/users.properties lines are
        Files.writeString(Path.of(System.getProperty("karaf.etc"), "users.properties"),
                "\nmail@example.org = battery staple\n", StandardOpenOption.APPEND);
        String ehlo = "";
        long deadline = System.currentTimeMillis() + 30_000;
        // until the server listens and the feature's plugin offers AUTH
        while (!ehlo.contains("\n250 AUTH PLAIN LOGIN") && System.currentTimeMillis() < deadline) {
            try (SmtpSession smtp = new SmtpSession(port)) {
                ehlo = smtp.command("EHLO karaf.test");
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(ehlo.contains("AUTH") ? 0 : 200);
        }
        assertTrue(ehlo, ehlo.contains("\n250 AUTH PLAIN LOGIN"));
        try (SmtpSession smtp = new SmtpSession(port)) {
            smtp.command("EHLO karaf.test");
            assertEquals("235 2.7.0 PLAIN authentication successful for mail@example.org",
                    smtp.command("AUTH PLAIN " + base64("\0mail@example.org\0battery staple")));
        }
        try (SmtpSession smtp = new SmtpSession(port)) {
            smtp.command("EHLO karaf.test");
            assertEquals("334 VXNlcm5hbWU6", smtp.command("AUTH LOGIN"));
            assertEquals("334 UGFzc3dvcmQ6", smtp.command(base64("mail@example.org")));
            assertEquals("235 2.7.0 LOGIN authentication successful for mail@example.org", smtp.command(base64("battery staple")));
        }
        try (SmtpSession smtp = new SmtpSession(port)) {
            smtp.command("EHLO karaf.test");
            assertEquals("535 5.7.8 PLAIN authentication failed for mail@example.org",
                    smtp.command("AUTH PLAIN " + base64("\0mail@example.org\0battery")));
        }
    }

    @Test
    public void metricsAndHealthAreServedOnPaxWebAndHcExecRunsTheChecks() throws Exception {
        int port = serverPort();
        // as an administrator adds them to a running Karaf (as boot features, Pax Web's configuration files would be
        // installed while its refresh has the mvn: URL handler away); without refreshing bundles already there,
        // which would take this test's probe and shell away
        featuresService.installFeatures(java.util.Set.of("postern-metrics", "postern-health"),
                java.util.EnumSet.of(FeaturesService.Option.NoAutoRefreshBundles));
        long deadline = System.currentTimeMillis() + 30_000;
        String metrics = "";
        // until the server listens, the client's session ended and the endpoint is registered
        while (!metrics.contains("postern_connections_total{listener=\"default\",result=\"accepted\"}")
                && System.currentTimeMillis() < deadline) {
            try (SmtpSession smtp = new SmtpSession(port)) {
                smtp.command("EHLO karaf.test");
                smtp.command("QUIT");
            } catch (IOException notYet) {
                Thread.sleep(200);
                continue;
            }
            metrics = httpGet("/metrics").body();
            Thread.sleep(metrics.contains("postern_connections_total") ? 0 : 200);
        }
        assertTrue(metrics, metrics.contains("postern_connections_total{listener=\"default\",result=\"accepted\"}"));
        assertTrue(metrics, metrics.contains("postern_plugin_latency_seconds_bucket{hook=\"connect\",outcome=\"DECLINED\",plugin=\"earlytalker\""));

        // tells, if /health is missing, whether its servlet was never registered or Pax Web does not serve it
        String servlet = "(osgi.http.whiteboard.servlet.pattern=/health)";
        long registered = System.currentTimeMillis() + 30_000;
        while (context.getServiceReferences("javax.servlet.Servlet", servlet) == null && System.currentTimeMillis() < registered) {
            Thread.sleep(100);
        }
        assertTrue("no /health servlet service; health checks' bundles: " + bundleStates("org.apache.felix.healthcheck", "org.postern.health")
                + ", executor: " + context.getServiceReference("org.apache.felix.hc.api.execution.HealthCheckExecutor"),
                context.getServiceReferences("javax.servlet.Servlet", servlet) != null);
        java.net.http.HttpResponse<String> health = httpGet("/health");
        assertTrue(health.body(), health.body().contains("OK Postern listeners: default listening on 127.0.0.1:" + port + "\n"));
        assertTrue(health.body(), health.body().contains("OK Postern spool: "));
        // the DNS peer check asks the machine's name servers, which a test machine may not reach
        assertEquals(health.body(), health.body().contains("CRITICAL") ? 503 : 200, health.statusCode());

        org.junit.Assume.assumeTrue("Karaf 4.4's shell does not run on JDK " + Runtime.version().feature(),
                Runtime.version().feature() < 24);
        String checks = karafCommand("hc:exec postern");
        assertTrue(checks, checks.contains("Postern listeners") && checks.contains("OK"));
    }

    @Test
    public void theContentFeaturesInstallIntoARunningKarafAndTheirPluginsStart() throws Exception {
        // the embedded Guava (dmarc), Gson (rspamd) and jSPF (sender_permitted_from) resolve within their bundles;
        // the four that run without a configuration answer data_post, milter and rspamd wait for theirs
        installAndCheck(java.util.Set.of("postern-sender-permitted-from", "postern-dkim", "postern-arc", "postern-dmarc",
                "postern-milter", "postern-rspamd"), java.util.List.of("plugin-sender-permitted-from", "mail-auth", "plugin-dkim",
                "plugin-arc", "plugin-dmarc", "plugin-milter", "plugin-rspamd"), "org.postern.smtp.api.DataPostHook",
                java.util.List.of("sender_permitted_from", "dkim", "arc", "dmarc"));
    }

    @Test
    public void theConnectionFeaturesInstallIntoARunningKarafAndTheirPluginsStart() throws Exception {
        // the embedded MaxMind reader (ident/geoip) resolves within its bundle; ident/p0f waits for its socket's path
        installAndCheck(java.util.Set.of("postern-loadcheck", "postern-ident-geoip", "postern-ident-p0f"),
                java.util.List.of("plugin-loadcheck", "plugin-ident-geoip", "plugin-ident-p0f"), "org.postern.smtp.api.ConnectHook",
                java.util.List.of("loadcheck", "ident/geoip"));
    }

    /**
     * Installs the features, checks that their bundles are active and that these plugins answer the hook, and
     * uninstalls them: the other tests' messages meet the default set only.
     */
    private void installAndCheck(java.util.Set<String> features, java.util.List<String> bundles, String hook,
            java.util.List<String> plugins) throws Exception {
        java.util.EnumSet<FeaturesService.Option> noRefresh = java.util.EnumSet.of(FeaturesService.Option.NoAutoRefreshBundles);
        featuresService.installFeatures(features, noRefresh);
        try {
            for (String bundle : bundles) {
                Bundle installed = java.util.Arrays.stream(context.getBundles())
                        .filter(candidate -> candidate.getSymbolicName().equals("org.postern." + bundle)).findFirst()
                        .orElseThrow(() -> new AssertionError(bundle + " not installed"));
                assertEquals(bundle, Bundle.ACTIVE, installed.getState());
            }
            for (String plugin : plugins) {
                String filter = "(postern.plugin=" + plugin + ")";
                long deadline = System.currentTimeMillis() + 30_000;
                while (context.getServiceReferences(hook, filter) == null && System.currentTimeMillis() < deadline) {
                    Thread.sleep(100);
                }
                assertTrue(plugin, context.getServiceReferences(hook, filter) != null);
            }
        } finally {
            featuresService.uninstallFeatures(features, noRefresh);
        }
    }

    /** The bundles whose symbolic names start with these, with their states (32 = ACTIVE). */
    private String bundleStates(String... prefixes) {
        return java.util.Arrays.stream(context.getBundles())
                .filter(bundle -> Stream.of(prefixes).anyMatch(prefix -> bundle.getSymbolicName().startsWith(prefix)))
                .map(bundle -> bundle.getSymbolicName() + "=" + bundle.getState()).toList().toString();
    }

    private static java.net.http.HttpResponse<String> httpGet(String path) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + paxWebPort() + path)).build();
        while (true) {
            try {
                java.net.http.HttpResponse<String> response = client.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() != 404 || System.currentTimeMillis() > deadline) {
                    return response;
                }
            } catch (IOException notYet) {
                if (System.currentTimeMillis() > deadline) {
                    throw notYet;
                }
            }
            Thread.sleep(200);
        }
    }

    private static int paxWebPort() throws IOException {
        java.util.Properties config = new java.util.Properties();
        try (java.io.Reader in = Files.newBufferedReader(Path.of(System.getProperty("karaf.etc"), "org.ops4j.pax.web.cfg"))) {
            config.load(in);
        }
        return Integer.parseInt(config.getProperty(HTTP_PORT_KEY).trim());
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    /** A client session, greeting read. */
    private static final class SmtpSession implements AutoCloseable {
        private final Socket socket;
        private final BufferedReader in;
        private final OutputStream out;

        SmtpSession(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            out = socket.getOutputStream();
            reply();
        }

        String command(String command) throws IOException {
            out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
            return reply();
        }

        /** One reply, its lines joined with \n: up to the line whose code is followed by a space. */
        private String reply() throws IOException {
            StringBuilder reply = new StringBuilder();
            String line;
            do {
                line = in.readLine();
                if (line == null) {
                    throw new IOException("connection closed after: " + reply);
                }
                reply.append(reply.length() == 0 ? "" : "\n").append(line);
            } while (line.length() > 3 && line.charAt(3) == '-');
            return reply.toString();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
