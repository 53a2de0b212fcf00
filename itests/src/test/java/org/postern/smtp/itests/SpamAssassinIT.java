package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.composite;

import java.io.File;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.AfterClass;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;

/** The spamassassin plugin against a real spamd (Debian's package) on a loopback port. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SpamAssassinIT extends PosternTestSupport {
    private static final String GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
    private static Process spamd;
    private static int spamdPort;
    private static int port;
    private final AtomicReference<String> status = new AtomicReference<>();

    @Override
    @Configuration
    public Option[] config() {
        return new Option[] {composite(super.config()), postern("plugin-spamassassin")};
    }

    @Before
    public void start() throws Exception {
        // pax-exam runs @AfterClass after each test method, so spamd is started again (on its port) when needed.
        if (spamd == null || !spamd.isAlive()) {
            spamdPort = spamdPort == 0 ? freePort() : spamdPort;
            Path folder = Files.createTempDirectory("spamd");
            List<String> command = new ArrayList<>(List.of(new File("/usr/sbin/spamd").canExecute() ? "/usr/sbin/spamd" : "spamd",
                    "--listen=127.0.0.1:" + spamdPort, "--max-children=1", "--nouser-config", "--syslog=stderr",
                    "--pidfile=" + folder.resolve("spamd.pid")));
            if ("root".equals(System.getProperty("user.name"))) {
                command.add("--username=nobody");
            }
            spamd = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(folder.resolve("spamd.log").toFile()).start();
            await("spamd to answer PING", () -> pong(spamdPort));
        }
        if (port == 0) {
            configAdmin.getConfiguration("org.postern.smtp.plugin.spamassassin", "?").update(new Hashtable<>(Map.of(
                    "spamd", "127.0.0.1:" + spamdPort, "reject.score", 20.0)));
            port = startServer(Map.of());
            awaitPlugin("spamassassin");
        }
        hook(HookType.RCPT, 10, ctx -> HookResult.ok());
        hook(HookType.QUEUE, 10, ctx -> {
            status.set(String.join(" | ", ctx.transaction().header().orElseThrow().get("X-Spam-Status")));
            return HookResult.ok();
        });
    }

    @AfterClass
    public static void stopSpamd() throws InterruptedException {
        if (spamd != null) {
            spamd.destroy();
            spamd.waitFor();
        }
    }

    private static boolean pong(int spamdPort) {
        try (Socket socket = new Socket("127.0.0.1", spamdPort)) {
            socket.getOutputStream().write("PING SPAMC/1.5\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).contains("PONG");
        } catch (IOException notYet) {
            return false;
        }
    }

    private static String send(String message) throws IOException {
        try (SmtpClient client = SmtpClient.inTransaction(port)) {
            client.command("DATA");
            return client.command(message + "\r\n.");
        }
    }

    @Test
    public void gtubeIsRefusedAndHamGetsItsScoreInTheHeader() throws Exception {
        String spam = send("Subject: buy now\r\nFrom: a@example.org\r\n\r\n" + GTUBE + "\r\n");
        assertTrue(spam, spam.startsWith("552 5.7.1 This message is considered spam (score 1"));
        String ham = send("Subject: lunch\r\nFrom: a@example.org\r\nTo: b@example.org\r\n\r\nShall we have lunch on Friday?\r\n");
        assertEquals("250 2.0.0 Queued", ham);
        assertTrue(status.get(), status.get().startsWith("No, score="));
    }

    @Test
    public void anUnreachableSpamdLetsMailThroughUnscanned() throws Exception {
        configAdmin.getConfiguration("org.postern.smtp.plugin.spamassassin", "?").update(new Hashtable<>(Map.of(
                "spamd", "127.0.0.1:" + freePort(), "reject.score", 20.0)));
        await("the unscanned GTUBE message to pass", () -> {
            try {
                return send("Subject: x\r\n\r\n" + GTUBE + "\r\n").startsWith("250") && status.get().isEmpty();
            } catch (IOException e) {
                return false;
            }
        });
        configAdmin.getConfiguration("org.postern.smtp.plugin.spamassassin", "?").update(new Hashtable<>(Map.of(
                "spamd", "127.0.0.1:" + spamdPort, "reject.score", 20.0)));
        await("spamd to be used again", () -> {
            try {
                return send("Subject: x\r\n\r\n" + GTUBE + "\r\n").startsWith("552");
            } catch (IOException e) {
                return false;
            }
        });
    }
}
