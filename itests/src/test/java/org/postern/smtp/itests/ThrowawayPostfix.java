package org.postern.smtp.itests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.Assume;

/**
 * A Postfix instance of a test's own, from Debian's package: its own configuration folder, queue and data folders,
 * SMTP on a free loopback port, and every recipient at {@code localhost} delivered by its virtual agent into one
 * Maildir, {@code mail/box}. As bench/run's start_postfix. Postfix's master must start as root, so a test using this
 * is skipped elsewhere.
 */
final class ThrowawayPostfix implements AutoCloseable {
    final Path base;
    /** The configuration folder, for {@code postfix -c}, {@code sendmail -C} or MAIL_CONFIG. */
    final Path config;
    final Path queue;
    final int smtpPort;
    private final Path log;

    private ThrowawayPostfix(Path base, int smtpPort) {
        this.base = base;
        this.config = base.resolve("etc");
        this.queue = base.resolve("queue");
        this.smtpPort = smtpPort;
        this.log = base.resolve("postfix.log");
    }

    /**
     * Starts an instance with these main.cf settings added ({@code {base}} in a value stands for its folder) and
     * these lines added to master.cf (more services).
     */
    static ThrowawayPostfix start(Map<String, String> mainExtra, String masterExtra) throws Exception {
        Assume.assumeTrue("Postfix's master starts as root only", "root".equals(System.getProperty("user.name")));
        Assume.assumeTrue("Postfix is not installed (Debian package postfix)", Files.isExecutable(Path.of("/usr/sbin/postfix")));
        Path base = Files.createTempDirectory("postfix");
        // Postfix's unprivileged processes must reach their folders
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        ThrowawayPostfix postfix = new ThrowawayPostfix(base, ServerProcess.freePort());
        Files.createDirectories(postfix.config);
        Files.createDirectories(postfix.queue);
        Path data = Files.createDirectories(base.resolve("data"));
        Path mail = Files.createDirectories(base.resolve("mail"));
        run("chown", "postfix", data.toString());
        run("chown", "nobody:nogroup", mail.toString());
        Map<String, String> main = new LinkedHashMap<>();
        main.put("compatibility_level", "3.6");
        main.put("queue_directory", postfix.queue.toString());
        main.put("data_directory", data.toString());
        main.put("mail_owner", "postfix");
        main.put("setgid_group", "postdrop");
        main.put("myhostname", "it.postfix");
        main.put("mydestination", "");
        main.put("inet_interfaces", "127.0.0.1");
        main.put("inet_protocols", "ipv4");
        main.put("mynetworks", "127.0.0.0/8");
        main.put("virtual_mailbox_domains", "localhost");
        main.put("virtual_mailbox_base", mail.toString());
        main.put("virtual_mailbox_maps", "static:box/");
        main.put("virtual_uid_maps", "static:65534");
        main.put("virtual_gid_maps", "static:65534");
        main.put("virtual_minimum_uid", "100");
        main.put("maillog_file", postfix.log.toString());
        main.put("maillog_file_prefixes", base.toString());
        main.put("alias_maps", "");
        main.put("alias_database", "");
        main.put("local_recipient_maps", "");
        mainExtra.forEach((key, value) -> main.put(key, value.replace("{base}", base.toString())));
        StringBuilder mainCf = new StringBuilder();
        main.forEach((key, value) -> mainCf.append(key).append(" = ").append(value).append('\n'));
        Files.writeString(postfix.config.resolve("main.cf"), mainCf);
        String master = Files.readString(Path.of("/etc/postfix/master.cf")).replaceFirst("(?m)^smtp +inet .*$",
                "127.0.0.1:" + postfix.smtpPort + " inet n - n - - smtpd");
        Files.writeString(postfix.config.resolve("master.cf"), master + masterExtra);
        run("postfix", "-c", postfix.config.toString(), "set-permissions");
        run("postfix", "-c", postfix.config.toString(), "start");
        return postfix;
    }

    private static String run(String... command) throws Exception {
        return DistributionIT.run(0, command);
    }

    /** Postfix's log so far. */
    String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** The messages delivered into mail/box/new so far. */
    List<Path> delivered() throws IOException {
        Path fresh = base.resolve("mail/box/new");
        if (!Files.isDirectory(fresh)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(fresh)) {
            return files.sorted().toList();
        }
    }

    /** Waits up to 20 s for the count of delivered messages to reach {@code count}; returns them. */
    List<Path> awaitDelivered(int count) throws Exception {
        return await(this::delivered, delivered -> delivered.size() >= count,
                count + " messages in " + base.resolve("mail/box/new"));
    }

    /** Waits up to 20 s for a delivered message with this subject; returns its text. */
    String awaitMessage(String subject) throws Exception {
        return await(() -> {
            for (Path file : delivered()) {
                String text = Files.readString(file);
                if (text.contains("\nSubject: " + subject + "\n")) {
                    return text;
                }
            }
            return null;
        }, text -> text != null, "a message with the subject " + subject);
    }

    /** Waits up to 20 s for a line of Postfix's log with this text; returns the log. */
    String awaitLog(String text) throws Exception {
        return await(this::log, log -> log.contains(text), "'" + text + "' in Postfix's log");
    }

    private <T> T await(Callable<T> state, Predicate<T> reached, String what) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        T now = state.call();
        while (!reached.test(now)) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError(what + " expected within 20 s; Postfix's log:\n" + log());
            }
            Thread.sleep(50);
            now = state.call();
        }
        return now;
    }

    @Override
    public void close() throws Exception {
        DistributionIT.run(0, "postfix", "-c", config.toString(), "stop");
    }
}
