package org.postern.smtp.itests;

import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A Dovecot (Debian's dovecot-core and dovecot-lmtpd) of a test's own: its own dovecot.conf, run and state folders
 * under a temp folder; users from a passwd-file, each with a Maildir under {@code mail/<address>/}; an LMTP
 * listener on a loopback port and a Unix socket, and the auth service on a loopback port (for Postfix's
 * {@code smtpd_sasl_type = dovecot}). User {@code full@example.org} has a 1 KB quota. Needs root.
 */
final class Dovecot implements AutoCloseable {
    /** Every user's password. */
    static final String PASSWORD = "secret";
    final Path base;
    final int lmtpPort;
    final int authPort;
    final Path lmtpSocket;
    private final Path config;
    private Process process;

    private Dovecot(Path base, int lmtpPort, int authPort) {
        this.base = base;
        this.lmtpPort = lmtpPort;
        this.authPort = authPort;
        this.lmtpSocket = base.resolve("lmtp.sock");
        this.config = base.resolve("dovecot.conf");
    }

    static boolean available() {
        return Files.isExecutable(Path.of("/usr/sbin/dovecot")) && Files.exists(Path.of("/usr/lib/dovecot/lmtp"))
                && "root".equals(System.getProperty("user.name"));
    }

    static Dovecot start(List<String> users) throws Exception {
        Path base = Files.createTempDirectory("dovecot");
        Dovecot dovecot = new Dovecot(base, ServerProcess.freePort(), ServerProcess.freePort());
        Path mail = Files.createDirectories(base.resolve("mail"));
        Files.createDirectories(base.resolve("run"));
        Files.createDirectories(base.resolve("state"));
        base.toFile().setExecutable(true, false);
        base.toFile().setReadable(true, false);
        DistributionIT.run(0, "chown", "nobody:nogroup", mail.toString());
        StringBuilder passwd = new StringBuilder();
        for (String user : users) {
            passwd.append(user).append(":{PLAIN}").append(PASSWORD).append(":65534:65534::").append(mail.resolve(user)).append("::")
                    .append(user.startsWith("full@") ? "userdb_quota_rule=*:storage=1K" : "").append('\n');
        }
        Files.writeString(base.resolve("passwd"), passwd);
        Files.writeString(dovecot.config, String.join("\n",
                "base_dir = " + base.resolve("run"),
                "state_dir = " + base.resolve("state"),
                "log_path = " + base.resolve("dovecot.log"),
                "protocols = lmtp",
                "listen = 127.0.0.1",
                "ssl = no",
                "default_internal_user = dovecot",
                "default_internal_group = dovecot",
                "default_login_user = dovenull",
                "auth_mechanisms = plain login",
                "mail_location = maildir:~/Maildir",
                "mail_plugins = quota",
                "plugin {",
                "  quota = maildir:User quota",
                "}",
                "passdb {",
                "  driver = passwd-file",
                "  args = scheme=PLAIN username_format=%u " + base.resolve("passwd"),
                "}",
                "userdb {",
                "  driver = passwd-file",
                "  args = username_format=%u " + base.resolve("passwd"),
                "}",
                "service lmtp {",
                "  inet_listener lmtp {",
                "    address = 127.0.0.1",
                "    port = " + dovecot.lmtpPort,
                "  }",
                "  unix_listener " + dovecot.lmtpSocket + " {",
                "    mode = 0666",
                "  }",
                "}",
                "service auth {",
                "  inet_listener {",
                "    address = 127.0.0.1",
                "    port = " + dovecot.authPort,
                "  }",
                "}",
                ""));
        // in the foreground (-F), as this process's child: no daemon outlives the test
        dovecot.process = new ProcessBuilder("dovecot", "-F", "-c", dovecot.config.toString()).redirectErrorStream(true)
                .redirectOutput(base.resolve("dovecot.out").toFile()).start();
        long deadline = System.currentTimeMillis() + 20_000;
        while (true) {
            try (Socket lmtp = new Socket("127.0.0.1", dovecot.lmtpPort); Socket auth = new Socket("127.0.0.1", dovecot.authPort)) {
                return dovecot;
            } catch (java.io.IOException notYet) {
                if (System.currentTimeMillis() > deadline) {
                    dovecot.close();
                    throw new AssertionError("dovecot did not listen within 20 s: " + Files.readString(base.resolve("dovecot.out")) + "\n"
                            + dovecot.log());
                }
                Thread.sleep(50);
            }
        }
    }

    /** The messages delivered to a user's Maildir (new/) so far. */
    List<Path> delivered(String user) throws java.io.IOException {
        Path fresh = base.resolve("mail").resolve(user).resolve("Maildir/new");
        if (!Files.isDirectory(fresh)) {
            return List.of();
        }
        try (java.util.stream.Stream<Path> files = Files.list(fresh)) {
            return files.sorted().toList();
        }
    }

    String log() throws java.io.IOException {
        Path log = base.resolve("dovecot.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
