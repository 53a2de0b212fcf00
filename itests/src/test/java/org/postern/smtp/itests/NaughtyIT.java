package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.composite;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.InvalidSyntaxException;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.PluginConventions;

/**
 * The naughty plugin in the server: a test plugin at connect defers a refusal for some client addresses, as a
 * plugin configured with {@code reject naughty} does, and naughty refuses those sessions later, at the hook its
 * {@code reject} option names, over a real socket (and with Python's smtplib).
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class NaughtyIT extends PosternTestSupport {
    private static final String PID = "org.postern.smtp.plugin.naughty";
    /** Marked with the reject type perm, as a plugin with {@code reject_type perm} stores it. */
    private static final String NAUGHTY_CLIENT = "127.0.0.66";
    /** Marked without a reject type, so naughty's own {@code reject_type} applies. */
    private static final String UNTYPED_CLIENT = "127.0.0.67";
    /** Marked by two checks, so the reply has two lines. */
    private static final String TWICE_NAUGHTY_CLIENT = "127.0.0.68";
    private static int port;

    @Override
    @Configuration
    public Option[] config() {
        return new Option[] {composite(super.config()), postern("plugin-naughty"), postern("plugin-rcpt-ok"),
                postern("plugin-queue-discard")};
    }

    @Before
    public void start() throws Exception {
        if (port == 0) {
            configItems(Map.of("rcpthosts", "example.org"));
            configAdmin.getConfiguration("org.postern.smtp.plugin.queue.discard", "?").update(new Hashtable<>(Map.of("on", "yes")));
            port = startServer(Map.of());
        }
        hook(HookType.CONNECT, 100, "marks-naughty", NaughtyIT::markSomeClients);
    }

    private static HookResult markSomeClients(HookContext ctx) {
        switch (ctx.session().remoteAddress().getAddress().getHostAddress()) {
            case NAUGHTY_CLIENT:
                return PluginConventions.reject(ctx, "naughty", "perm", "You are naughty", "test");
            case UNTYPED_CLIENT:
                return PluginConventions.reject(ctx, "naughty", null, "You are naughty too", "test");
            case TWICE_NAUGHTY_CLIENT:
                PluginConventions.reject(ctx, "naughty", "perm", "Listed in bl.example", "test");
                return PluginConventions.reject(ctx, "naughty", "temp", "Sender domain does not resolve", "test");
            default:
                return HookResult.declined();
        }
    }

    /**
     * Gives naughty these options and waits until its hook service carries them. It updates only what changes,
     * and waits for the configuration's own service.pid, so that no service about to be replaced counts.
     */
    private void configureNaughty(String reject, String rejectType) throws Exception {
        org.osgi.service.cm.Configuration configuration = configAdmin.getConfiguration(PID, "?");
        Dictionary<String, Object> current = configuration.getProperties();
        if (current == null || !reject.equals(current.get("reject")) || !rejectType.equals(current.get("reject_type"))) {
            configuration.update(new Hashtable<>(Map.of("reject", reject, "reject_type", rejectType)));
        }
        String filter = "(&(postern.plugin=naughty)(service.pid=" + PID + ")(reject=" + reject + ")(reject_type=" + rejectType + "))";
        await("naughty with " + filter, () -> {
            try {
                return context.getServiceReferences((String) null, filter) != null;
            } catch (InvalidSyntaxException e) {
                throw new IllegalArgumentException(e);
            }
        });
    }

    private static SmtpClient greeted(String clientAddress) throws Exception {
        SmtpClient client = new SmtpClient(port, clientAddress);
        String greeting = client.reply();
        assertTrue(greeting, greeting.startsWith("220 test.postern"));
        assertTrue(client.command("EHLO client.example").startsWith("250"));
        return client;
    }

    /** A greeted client whose MAIL FROM was accepted. */
    private static SmtpClient sending(String clientAddress) throws Exception {
        SmtpClient client = greeted(clientAddress);
        assertTrue(client.command("MAIL FROM:<a@example.org>").startsWith("250 2.1.0"));
        return client;
    }

    @Test
    public void aMarkedClientIsRefusedAtRcptWithTheStoredTextAndTheStoredTypeWins() throws Exception {
        configureNaughty("rcpt", "temp");
        try (SmtpClient client = sending(NAUGHTY_CLIENT)) {
            assertEquals("550 5.7.1 You are naughty", client.command("RCPT TO:<b@example.org>"));
            assertTrue(client.command("QUIT").startsWith("221"));
        }
        try (SmtpClient client = sending(UNTYPED_CLIENT)) {
            assertEquals("450 4.7.1 You are naughty too", client.command("RCPT TO:<b@example.org>"));
            assertFalse(client.closedByServerWithin(300));
        }
    }

    @Test
    public void withoutAStoredTypeTheDefaultDisconnects() throws Exception {
        configureNaughty("rcpt", "disconnect");
        try (SmtpClient client = sending(UNTYPED_CLIENT)) {
            assertEquals("550 5.7.1 You are naughty too", client.command("RCPT TO:<b@example.org>"));
            assertTrue(client.closedByServerWithin(5000));
        }
    }

    @Test
    public void eachDeferredRefusalIsALineOfTheReply() throws Exception {
        configureNaughty("rcpt", "disconnect");
        try (SmtpClient client = sending(TWICE_NAUGHTY_CLIENT)) {
            assertEquals("550-5.7.1 Listed in bl.example\n550 5.7.1 Sender domain does not resolve",
                    client.command("RCPT TO:<b@example.org>"));
        }
    }

    @Test
    public void anUnmarkedClientDeliversItsMessage() throws Exception {
        configureNaughty("rcpt", "disconnect");
        try (SmtpClient client = sending("127.0.0.1")) {
            assertTrue(client.command("RCPT TO:<b@example.org>").startsWith("250 2.1.5"));
            assertTrue(client.command("DATA").startsWith("354"));
            assertEquals("250 2.0.0 Discarded", client.command("Subject: clean\r\n\r\nbody\r\n."));
        }
    }

    @Test
    public void theRejectOptionNamesTheHook() throws Exception {
        configureNaughty("connect", "disconnect");
        try (SmtpClient client = new SmtpClient(port, NAUGHTY_CLIENT)) {
            assertEquals("550 5.7.1 You are naughty", client.reply());
            assertTrue(client.closedByServerWithin(5000));
        }
        configureNaughty("mail", "disconnect");
        try (SmtpClient client = greeted(NAUGHTY_CLIENT)) {
            assertEquals("550 5.7.1 You are naughty", client.command("MAIL FROM:<a@example.org>"));
        }
        configureNaughty("data", "disconnect");
        try (SmtpClient client = sending(NAUGHTY_CLIENT)) {
            assertTrue(client.command("RCPT TO:<b@example.org>").startsWith("250 2.1.5"));
            assertEquals("554 5.7.1 You are naughty", client.command("DATA"));
        }
        configureNaughty("data_post", "disconnect");
        try (SmtpClient client = sending(NAUGHTY_CLIENT)) {
            assertTrue(client.command("RCPT TO:<b@example.org>").startsWith("250 2.1.5"));
            assertTrue(client.command("DATA").startsWith("354"));
            assertEquals("552 5.7.1 You are naughty", client.command("Subject: naughty\r\n\r\nbody\r\n."));
        }
    }

    @Test
    public void anAuthenticatedClientIsNotRefused() throws Exception {
        configureNaughty("mail", "disconnect");
        hook(HookType.AUTH, 10, ctx -> HookResult.ok());
        String credentials = Base64.getEncoder().encodeToString("\0alice@example.org\0secret".getBytes(StandardCharsets.UTF_8));
        try (SmtpClient client = greeted(NAUGHTY_CLIENT)) {
            assertTrue(client.command("AUTH PLAIN " + credentials).startsWith("235 2.7.0"));
            assertTrue(client.command("MAIL FROM:<alice@example.org>").startsWith("250 2.1.0"));
            assertTrue(client.command("RCPT TO:<b@example.org>").startsWith("250 2.1.5"));
            assertTrue(client.command("DATA").startsWith("354"));
            assertEquals("250 2.0.0 Discarded", client.command("Subject: authenticated\r\n\r\nbody\r\n."));
        }
    }

    @Test
    public void pythonSmtplibIsGreetedThenRefusedAtMail() throws Exception {
        configureNaughty("mail", "disconnect");
        String script = String.join("\n",
                "import smtplib, sys",
                "with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20, source_address=(sys.argv[2], 0)) as smtp:",
                "    smtp.ehlo('python.example')",
                "    code, text = smtp.mail('a@example.org')",
                "    print('naughty', code, text.decode())",
                "with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20) as smtp:",
                "    smtp.sendmail('a@example.org', ['b@example.org'], 'Subject: hi\\r\\n\\r\\nbody\\r\\n')",
                "    print('clean sent')");
        Process python = new ProcessBuilder("python3", "-c", script, Integer.toString(port), NAUGHTY_CLIENT)
                .redirectErrorStream(true).start();
        String output = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(output, 0, python.waitFor());
        assertTrue(output, output.contains("naughty 550 5.7.1 You are naughty\n"));
        assertTrue(output, output.contains("clean sent"));
    }
}
