package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;

/**
 * The server's configuration changes while sessions are open: new connections get the new settings, open
 * sessions finish with theirs, a removed listener stops accepting, and a bad value leaves the previous
 * configuration in force.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class LiveConfigurationIT extends PosternTestSupport {

    private void reconfigure(Map<String, Object> settings) throws IOException {
        configAdmin.getConfiguration("org.postern.smtp.server", "?").update(new Hashtable<>(settings));
    }

    private static SmtpClient openTransaction(int port) throws Exception {
        SmtpClient client = new SmtpClient(port);
        client.reply();
        client.command("EHLO client.example");
        assertTrue(client.command("MAIL FROM:<a@example.org>").startsWith("250"));
        assertTrue(client.command("RCPT TO:<b@example.org>").startsWith("250"));
        return client;
    }

    @Test
    public void openSessionsSurviveAConfigurationChangeAndNewOnesGetTheNewSettings() throws Exception {
        hook(HookType.RCPT, 10, ctx -> HookResult.ok());
        hook(HookType.QUEUE, 10, ctx -> HookResult.ok());
        int oldPort = startServer(Map.of("me", "before.example", "max.recipients", 5));
        List<SmtpClient> open = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            open.add(openTransaction(oldPort));
        }
        int newPort = freePort();
        reconfigure(Map.of("listen", "127.0.0.1:" + newPort, "me", "after.example", "max.recipients", 1));
        awaitListening(newPort);
        await("the old listener to close", () -> {
            try (SmtpClient refused = new SmtpClient(oldPort)) {
                return false;
            } catch (ConnectException closed) {
                return true;
            } catch (IOException other) {
                return false;
            }
        });
        for (SmtpClient client : open) {
            assertTrue(client.command("RCPT TO:<c@example.org>").startsWith("250"));
            assertTrue(client.command("DATA").startsWith("354"));
            assertEquals("250 2.0.0 Queued", client.command("Subject: across the change\r\n\r\nbody\r\n."));
            assertEquals("221 2.0.0 before.example closing connection. Have a wonderful day.", client.command("QUIT"));
            client.close();
        }
        try (SmtpClient client = openTransaction(newPort)) {
            assertEquals("452 4.5.3 Too many recipients", client.command("RCPT TO:<c@example.org>"));
            assertTrue(client.command("QUIT").contains("after.example"));
        }
    }

    @Test
    public void aBadValueLeavesThePreviousConfigurationInForce() throws Exception {
        int port = startServer(Map.of("me", "good.example"));
        reconfigure(Map.of("listen", "127.0.0.1:" + port, "me", "bad.example", "bare.line.endings", "sometimes"));
        reconfigure(Map.of("listen", "127.0.0.1:" + port, "me", "bad.example", "max.recipients", -3));
        reconfigure(Map.of("listen", "nonsense", "me", "bad.example"));
        // give ConfigAdmin and SCR time to deliver all three; then the first good configuration must still apply
        Thread.sleep(500);
        try (SmtpClient client = new SmtpClient(port)) {
            assertEquals("220 good.example ESMTP Postern ready", client.reply());
        }
        reconfigure(Map.of("listen", "127.0.0.1:" + port, "me", "fixed.example"));
        await("the corrected configuration", () -> {
            try (SmtpClient client = new SmtpClient(port)) {
                return client.reply().startsWith("220 fixed.example");
            } catch (IOException e) {
                fail(e.toString());
                return false;
            }
        });
    }
}
