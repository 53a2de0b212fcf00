package org.postern.smtp.itests;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** A mail server run as its own process on a free loopback port, as an administrator would start it. */
final class ServerProcess implements AutoCloseable {
    private static final Path POSTERN_HOME = Path.of(System.getProperty("postern.home"));

    final int port;
    final Path base;
    private final Process process;
    private final ProcessBuilder command;

    private ServerProcess(int port, Path base, Process process, ProcessBuilder command) {
        this.port = port;
        this.base = base;
        this.process = process;
        this.command = command;
    }

    /**
     * bin/postern with its own etc/ (the defaults, on a free port), data/ and an empty deploy/ folder: the core
     * with rcpt_ok and queue/maildir, without the default plugin set (see {@link #posternAsShipped}), and without
     * TLS unless {@code serverKeys} configure it ({@code tls.self.signed = false}), as the qpsmtpd it is compared
     * with runs.
     */
    static final String SERVER_CFG = "org.postern.smtp.server.cfg";
    /** In lines for etc/ files, stands for the port the server is started on (and waited for). */
    static final String PORT = "{port}";
    /** The comparisons with qpsmtpd run it without its tls plugin. */
    private static final String PLAIN_TEXT_ONLY = "tls.self.signed = false\n";
    private static final String HTTP_PORT_KEY = "org.osgi.service.http.port";

    static ServerProcess postern(String name, String... options) throws Exception {
        return postern(name, "", Map.of(), options);
    }

    /**
     * bin/postern as {@link #postern(String, String...)}, with JVM options (JAVA_OPTS) and server keys added to
     * etc/org.postern.smtp.server.cfg.
     */
    static ServerProcess postern(String name, String javaOptions, Map<String, String> serverKeys, String... options) throws Exception {
        return postern(name, javaOptions, serverKeys, true, options);
    }

    /**
     * bin/postern as {@link #postern(String, String...)}, its output (the log) going into a pipe that nobody reads,
     * which fills after 64 KiB as a stuck log consumer's would; {@link #log()} has nothing to read then.
     */
    static ServerProcess posternWithAStuckLog(String name) throws Exception {
        return postern(name, "", Map.of(), false);
    }

    private static ServerProcess postern(String name, String javaOptions, Map<String, String> serverKeys, boolean logToFile,
            String... options) throws Exception {
        Path base = Files.createTempDirectory("postern-" + name);
        Path etc = Files.createDirectories(base.resolve("etc"));
        int port = freePort();
        copyDefaultConfiguration(etc, port);
        StringBuilder extra = new StringBuilder("\n");
        if (serverKeys.keySet().stream().noneMatch(key -> key.startsWith("tls."))) {
            extra.append(PLAIN_TEXT_ONLY);
        }
        serverKeys.forEach((key, value) -> extra.append(key).append(" = ").append(value).append('\n'));
        Files.writeString(etc.resolve("org.postern.smtp.server.cfg"), extra.toString(), java.nio.file.StandardOpenOption.APPEND);
        List<String> command = new java.util.ArrayList<>(List.of(POSTERN_HOME.resolve("bin/postern").toString(),
                "--etc", etc.toString(), "--data", base.resolve("data").toString(), "--deploy", base.resolve("deploy").toString()));
        // an existing (empty) deploy/ keeps bin/postern from seeding it with the default plugin set
        Files.createDirectories(base.resolve("deploy"));
        command.addAll(List.of(options));
        ProcessBuilder builder = new ProcessBuilder(command);
        if (!javaOptions.isEmpty()) {
            builder.environment().put("JAVA_OPTS", javaOptions);
        }
        return logToFile ? start(port, base, builder) : start(port, base, builder.redirectErrorStream(true), builder.start());
    }

    /**
     * bin/postern with this build's plugin bundles (module names under bundles/, e.g. {@code plugin-badrcptto})
     * in its deploy/ folder from the start, and lines added to etc/ files (file name → lines, e.g.
     * {@code "org.postern.smtp.config.cfg" → "badrcptto = @spam.example\n"}): for plugin tests side by side with
     * {@link #qpsmtpdWithPlugins}. Without TLS unless the lines for org.postern.smtp.server.cfg name {@code tls.} keys;
     * {@value #PORT} in the lines stands for the server's port.
     */
    static ServerProcess posternWithPlugins(String name, Map<String, String> etcLines, List<String> bundles) throws Exception {
        return posternWithPlugins(name, "", etcLines, bundles);
    }

    /** {@link #posternWithPlugins(String, Map, List)} with these launcher options, e.g. {@code --console}. */
    static ServerProcess posternWithPlugins(String name, Map<String, String> etcLines, List<String> bundles, String... options)
            throws Exception {
        return posternWithPlugins(name, "", etcLines, bundles, options);
    }

    /** {@link #posternWithPlugins(String, Map, List)} with these JVM options ({@code JAVA_OPTS}) and launcher options. */
    static ServerProcess posternWithPlugins(String name, String javaOptions, Map<String, String> etcLines, List<String> bundles,
            String... options) throws Exception {
        List<Path> jars = new java.util.ArrayList<>();
        for (String bundle : bundles) {
            String jar = bundle + "-" + System.getProperty("postern.version") + ".jar";
            jars.add(Path.of(System.getProperty("postern.bundles"), bundle, "target", jar));
        }
        Map<String, String> lines = new java.util.HashMap<>(etcLines);
        lines.merge(SERVER_CFG, PLAIN_TEXT_ONLY, (own, plain) -> own.contains("tls.") ? own : plain + own);
        return posternDeploying(name, javaOptions, lines, jars, options);
    }

    /**
     * bin/postern as the distribution ships it: its default plugin set (the jars in the distribution's deploy/)
     * in its own deploy/ folder, with lines added to etc/ files as in {@link #posternWithPlugins}.
     */
    static ServerProcess posternAsShipped(String name, Map<String, String> etcLines) throws Exception {
        try (Stream<Path> shipped = Files.list(POSTERN_HOME.resolve("deploy"))) {
            return posternDeploying(name, "", etcLines, shipped.filter(file -> file.toString().endsWith(".jar")).toList());
        }
    }

    private static ServerProcess posternDeploying(String name, String javaOptions, Map<String, String> etcLines, List<Path> jars,
            String... options) throws Exception {
        Path base = Files.createTempDirectory("postern-" + name);
        Path etc = Files.createDirectories(base.resolve("etc"));
        Path deploy = Files.createDirectories(base.resolve("deploy"));
        for (Path jar : jars) {
            Files.copy(jar, deploy.resolve(jar.getFileName()));
        }
        int port = freePort();
        copyDefaultConfiguration(etc, port);
        for (Map.Entry<String, String> lines : etcLines.entrySet()) {
            Files.writeString(etc.resolve(lines.getKey()), "\n" + lines.getValue().replace(PORT, Integer.toString(port)) + "\n",
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        }
        List<String> command = new java.util.ArrayList<>(List.of(POSTERN_HOME.resolve("bin/postern").toString(),
                "--etc", etc.toString(), "--data", base.resolve("data").toString(), "--deploy", deploy.toString()));
        command.addAll(List.of(options));
        ProcessBuilder builder = new ProcessBuilder(command);
        if (!javaOptions.isEmpty()) {
            builder.environment().put("JAVA_OPTS", javaOptions);
        }
        return start(port, base, builder);
    }

    /**
     * Waits until the server logged that this plugin (or an instance of it, {@code name:instance}) answers its
     * hooks: FileInstall starts deploy/'s bundles a moment after the greeting.
     */
    ServerProcess awaitPlugin(String pluginName) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        java.util.regex.Pattern active = java.util.regex.Pattern.compile("plugin " + java.util.regex.Pattern.quote(pluginName) + "(:\\S+)? at order");
        while (!active.matcher(log()).find()) {
            if (System.currentTimeMillis() > deadline) {
                String log = log();
                // the caller never gets this server to close
                close();
                throw new AssertionError("plugin " + pluginName + " not active within 30 s:\n" + log);
            }
            Thread.sleep(50);
        }
        return this;
    }

    /**
     * qpsmtpd as {@link #qpsmtpd()}, with plugin lines from its own plugin folder (e.g. {@code "badrcptto"}) before
     * rcpt_ok and queue/maildir, and config files (file name → content, e.g. {@code "badrcptto" → "@spam.example\n"}).
     */
    static ServerProcess qpsmtpdWithPlugins(List<String> rcpthosts, Map<String, String> configFiles, String... pluginLines)
            throws Exception {
        return qpsmtpd(rcpthosts, Map.of(), configFiles, pluginLines);
    }

    /**
     * qpsmtpd's forkserver from the Debian package, with the same plugins as Postern's default configuration:
     * rcpt_ok for localhost and queue/maildir.
     */
    static ServerProcess qpsmtpd() throws Exception {
        return qpsmtpd(List.of("localhost"), Map.of());
    }

    /**
     * qpsmtpd as {@link #qpsmtpd()}, for these local domains, with extra plugins of the test's own (file name
     * and Perl source), listed before rcpt_ok and queue/maildir with the given arguments.
     */
    static ServerProcess qpsmtpd(List<String> rcpthosts, Map<String, String> testPlugins, String... testPluginLines) throws Exception {
        return qpsmtpd(rcpthosts, testPlugins, Map.of(), testPluginLines);
    }

    /**
     * qpsmtpd for localhost with these plugin lines, its Net::DNS resolvers (those of Mail::SPF, Mail::DKIM and
     * Mail::DMARC) asking the DNS server on this loopback port: a test plugin loaded first sets Net::DNS's environment.
     */
    static ServerProcess qpsmtpdAskingDns(int dnsPort, String... pluginLines) throws Exception {
        List<String> lines = new java.util.ArrayList<>(List.of("test_dns"));
        lines.addAll(List.of(pluginLines));
        return qpsmtpd(List.of("localhost"), Map.of("test_dns", """
                sub init {
                    $ENV{RES_NAMESERVERS} = '127.0.0.1';
                    $ENV{RES_OPTIONS} = 'port:%d';
                }
                """.formatted(dnsPort)), lines.toArray(String[]::new));
    }

    private static ServerProcess qpsmtpd(List<String> rcpthosts, Map<String, String> testPlugins, Map<String, String> configFiles,
            String... testPluginLines) throws Exception {
        Path base = Files.createTempDirectory("qpsmtpd");
        Path config = Files.createDirectories(base.resolve("config"));
        Path plugins = Files.createDirectories(base.resolve("plugins"));
        Files.createDirectories(base.resolve("maildir"));
        Files.createDirectories(base.resolve("spool"));
        for (Map.Entry<String, String> plugin : testPlugins.entrySet()) {
            Files.writeString(plugins.resolve(plugin.getKey()), plugin.getValue());
            plugins.resolve(plugin.getKey()).toFile().setReadable(true, false);
        }
        Files.writeString(config.resolve("plugins"), String.join("", List.of(testPluginLines).stream().map(line -> line + "\n").toList())
                + "rcpt_ok\nqueue/maildir " + base.resolve("maildir") + "\n");
        Files.writeString(config.resolve("rcpthosts"), String.join("\n", rcpthosts) + "\n");
        Files.writeString(config.resolve("me"), "localhost\n");
        Files.writeString(config.resolve("plugin_dirs"), plugins + "\n/usr/share/qpsmtpd/plugins\n");
        Files.writeString(config.resolve("spool_dir"), base.resolve("spool") + "\n");
        Files.writeString(config.resolve("loglevel"), "4\n");
        for (Map.Entry<String, String> file : configFiles.entrySet()) {
            Files.writeString(config.resolve(file.getKey()), file.getValue());
        }
        String user = System.getProperty("user.name");
        String runAs = "root".equals(user) ? "qpsmtpd" : user;
        for (Path path : List.of(base, config, plugins, base.resolve("maildir"), base.resolve("spool"))) {
            path.toFile().setWritable(true, false);
            path.toFile().setExecutable(true, false);
            path.toFile().setReadable(true, false);
        }
        int port = freePort();
        ProcessBuilder builder = new ProcessBuilder("qpsmtpd-forkserver", "-l", "127.0.0.1", "-p", Integer.toString(port), "-u", runAs);
        builder.environment().put("QPSMTPD_CONFIG", config.toString());
        return start(port, base, builder);
    }

    /** The shipped etc/ files, with the SMTP listener on {@code port} and the HTTP service on another free port. */
    private static void copyDefaultConfiguration(Path etc, int port) throws IOException {
        String httpPort = Integer.toString(freePort());
        try (Stream<Path> defaults = Files.list(POSTERN_HOME.resolve("etc"))) {
            for (Path file : defaults.toList()) {
                String text = Files.readString(file).replace("listen = 127.0.0.1:2525", "listen = 127.0.0.1:" + port)
                        .replace(HTTP_PORT_KEY + " = 9025", HTTP_PORT_KEY + " = " + httpPort);
                Files.writeString(etc.resolve(file.getFileName()), text);
            }
        }
    }

    /** The port of the server's HTTP service (/metrics, /health), from its etc/org.apache.felix.http.cfg. */
    int httpPort() throws IOException {
        for (String line : Files.readAllLines(base.resolve("etc/org.apache.felix.http.cfg"))) {
            if (line.startsWith(HTTP_PORT_KEY + " = ")) {
                return Integer.parseInt(line.substring(HTTP_PORT_KEY.length() + 3).trim());
            }
        }
        throw new AssertionError("no " + HTTP_PORT_KEY + " in etc/org.apache.felix.http.cfg");
    }

    private static ServerProcess start(int port, Path base, ProcessBuilder builder) throws Exception {
        return start(port, base, builder, builder.redirectErrorStream(true).redirectOutput(base.resolve("server.log").toFile()).start());
    }

    private static String logSoFar(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log) : "(the log went into a pipe)";
    }

    private static ServerProcess start(int port, Path base, ProcessBuilder builder, Process process) throws Exception {
        Path log = base.resolve("server.log");
        ServerProcess server = new ServerProcess(port, base, process, builder);
        long started = System.nanoTime();
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError(builder.command() + " exited early:\n" + logSoFar(log));
            }
            try (Socket socket = new Socket("127.0.0.1", port)) {
                byte[] greeting = new byte[3];
                if (socket.getInputStream().readNBytes(greeting, 0, 3) == 3
                        && new String(greeting, StandardCharsets.US_ASCII).equals("220")) {
                    System.out.printf("%s: first 220 greeting %d ms after start%n", builder.command().get(0),
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
                    return server;
                }
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        server.close();
        throw new AssertionError("no 220 greeting from " + builder.command() + " within 30 s:\n" + logSoFar(log));
    }

    /**
     * Stops this server and starts it again with the same command, folders and port, as an administrator restarts
     * it: for state that must survive a restart. The output so far moves to server.log.before-restart.
     */
    ServerProcess restarted() throws Exception {
        close();
        Path log = base.resolve("server.log");
        Files.move(log, base.resolve("server.log.before-restart"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return start(port, base, command);
    }

    /** Sends the server SIGTERM, as an administrator's stop does, without waiting for it to exit. */
    void terminate() {
        process.destroy();
    }

    /** Waits up to 20 s for the server to log this text; fails with the log otherwise. */
    ServerProcess awaitLogged(String text) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (!log().contains(text)) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("'" + text + "' not logged within 20 s:\n" + log());
            }
            Thread.sleep(50);
        }
        return this;
    }

    /** Sends the server SIGHUP: qpsmtpd-forkserver reloads its plugins and their configuration. */
    void hangUp() throws Exception {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new AssertionError("kill -HUP " + process.pid() + " failed");
        }
    }

    /** Waits for the server to exit; true when it did within the time given. */
    boolean exitedWithin(long millis) throws InterruptedException {
        return process.waitFor(millis, TimeUnit.MILLISECONDS);
    }

    /**
     * Kills the server with SIGKILL, as a crash would: no shutdown hook runs and no bundle is stopped. bin/postern
     * execs java, so the process started is the JVM itself; checked, since killing a wrapper shell would leave
     * the JVM running. {@link #restarted()} then starts it again on the same folders and port.
     */
    void kill() throws InterruptedException {
        String command = process.info().command().orElse("?");
        if (!Path.of(command).getFileName().toString().equals("java")) {
            throw new AssertionError("the server's process runs " + command + ", not java: bin/postern must exec the JVM");
        }
        process.destroyForcibly();
        process.waitFor();
    }

    /** Types a line on the server's standard input (its console, with --console). */
    void type(String line) throws IOException {
        process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().flush();
    }

    /** The server's output so far. */
    String log() throws IOException {
        return Files.readString(base.resolve("server.log"));
    }

    /** Files delivered into a Maildir's new/ folder below this server's base folder. */
    List<Path> delivered(String maildir) throws IOException {
        Path fresh = base.resolve(maildir).resolve("new");
        if (!Files.isDirectory(fresh)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(fresh)) {
            return files.toList();
        }
    }

    /**
     * The message with this subject in the Maildir below this server's base folder, as delivered (ISO-8859-1, so
     * any octet reads back); waits up to 10 s, since a queue plugin may deliver after the 250.
     */
    String deliveredWithSubject(String maildir, String subject) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        do {
            for (Path file : delivered(maildir)) {
                String message = Files.readString(file, StandardCharsets.ISO_8859_1);
                String lines = "\n" + message.replace("\r\n", "\n");
                String header = lines.substring(0, Math.max(0, lines.indexOf("\n\n") + 1));
                if (header.contains("\nSubject: " + subject + "\n")) {
                    return message;
                }
            }
            Thread.sleep(50);
        } while (System.currentTimeMillis() < deadline);
        throw new AssertionError("no message with subject " + subject + " in " + base.resolve(maildir));
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
