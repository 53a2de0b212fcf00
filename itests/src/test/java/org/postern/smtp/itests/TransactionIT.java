package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.composite;
import static org.postern.smtp.api.HookType.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.ResultContext;

/**
 * Whole transactions through the default plugins (rcpt_ok and queue/maildir) and test plugins: delivery
 * into a Maildir, dot-stuffing, pipelining, header edits, the parse/pre hooks, asynchronous answers, the
 * notification hooks, and failing plugins.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class TransactionIT extends PosternTestSupport {
    private static int port;
    private static Path maildir;

    @Override
    @Configuration
    public Option[] config() {
        return new Option[] {composite(super.config()), postern("plugin-rcpt-ok"), postern("plugin-queue-maildir")};
    }

    @Before
    public void start() throws Exception {
        if (port == 0) {
            maildir = Files.createTempDirectory("postern-maildir");
            configAdmin.getConfiguration("org.postern.smtp.plugin.queue.maildir", "?")
                    .update(new Hashtable<>(Map.of("maildir", maildir.toString())));
            configItems(Map.of("rcpthosts", "example.org, .example.net"));
            port = startServer(Map.of("hook.timeout", 2, "queue.timeout", 2));
        }
    }

    private static List<Path> delivered() throws IOException {
        try (Stream<Path> files = Files.list(maildir.resolve("new"))) {
            return files.sorted().toList();
        }
    }

    /** The delivered message that holds this text (Maildir names do not sort in delivery order). */
    private static String deliveredWith(String text) throws IOException {
        for (Path file : delivered()) {
            String message = Files.readString(file, StandardCharsets.ISO_8859_1);
            if (message.contains(text)) {
                return message;
            }
        }
        throw new AssertionError("no delivered message holds " + text);
    }

    private static String send(SmtpClient client, String... commands) throws IOException {
        String last = null;
        for (String command : commands) {
            last = client.command(command);
        }
        return last;
    }

    @Test
    public void messageIsDeliveredIntoTheMaildirWithDotsUnstuffed() throws Exception {
        int before = Files.isDirectory(maildir.resolve("new")) ? delivered().size() : 0;
        try (SmtpClient client = new SmtpClient(port)) {
            assertTrue(client.reply().startsWith("220 test.postern"));
            send(client, "EHLO client.example", "MAIL FROM:<alice@example.com>");
            assertTrue(client.command("RCPT TO:<bob@example.org>").startsWith("250 2.1.5"));
            assertTrue(client.command("RCPT TO:<carol@sub.example.net>").startsWith("250 2.1.5"));
            assertEquals("550 5.7.1 Relaying denied", client.command("RCPT TO:<mallory@elsewhere.test>"));
            assertTrue(client.command("DATA").startsWith("354"));
            String reply = client.command("Subject: dots\r\n\r\n..leading dot\r\n...\r\n.");
            assertTrue(reply, reply.startsWith("250 2.0.0 Queued as "));
        }
        List<Path> files = delivered();
        assertEquals(before + 1, files.size());
        assertTrue(Files.list(maildir.resolve("tmp")).findAny().isEmpty());
        String message = deliveredWith("Subject: dots\n");
        assertTrue(message, message.startsWith("Return-Path: <alice@example.com>\nDelivered-To: bob@example.org\n"
                + "Delivered-To: carol@sub.example.net\nReceived: from [127.0.0.1] (HELO client.example) (127.0.0.1)\n\tby test.postern"));
        assertTrue(message, message.contains("\nAuthentication-Results: test.postern; auth=none\nSubject: dots\n"));
        assertTrue(message, message.endsWith("Subject: dots\n\n.leading dot\n..\n"));
        assertFalse(message.contains("\r"));
    }

    @Test
    public void pipelinedCommandsAreAnsweredInOrder() throws Exception {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            assertTrue(client.command("EHLO client.example").contains("PIPELINING"));
            client.send("MAIL FROM:<a@example.com>\r\nRCPT TO:<x@example.org>\r\nRCPT TO:<nobody@nowhere.test>\r\n"
                    + "RCPT TO:<y@example.org>\r\nDATA\r\n");
            assertTrue(client.reply().startsWith("250 2.1.0"));
            assertTrue(client.reply().startsWith("250 2.1.5 <x@example.org>"));
            assertEquals("550 5.7.1 Relaying denied", client.reply());
            assertTrue(client.reply().startsWith("250 2.1.5 <y@example.org>"));
            assertTrue(client.reply().startsWith("354"));
            client.send("Subject: pipelined\r\n\r\nbody\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n");
            assertTrue(client.reply().startsWith("250 2.0.0 Queued"));
            assertEquals("250 2.0.0 OK", client.reply());
            assertEquals("250 2.0.0 OK", client.reply());
            assertTrue(client.reply().startsWith("221"));
            assertTrue(client.closedByServerWithin(5000));
        }
    }

    @Test
    public void pluginsEditTheHeaderAndSupplyTheReceivedLine() throws Exception {
        AtomicReference<String> seen = new AtomicReference<>();
        hook(RECEIVED_LINE, 10, ctx -> HookResult.ok("from a test plugin; Thu, 1 Jan 2026 00:00:00 +0000"));
        hook(DATA_POST_HEADERS, 10, ctx -> {
            MessageHeader header = ctx.transaction().header().orElseThrow();
            header.add("X-Postern-Test", "added");
            header.remove("X-Remove-Me");
            return HookResult.declined();
        });
        hook(DATA_POST, 10, ctx -> {
            seen.set(ctx.transaction().header().orElseThrow().get("Received").get(0));
            return HookResult.declined();
        });
        int before = delivered().size();
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            send(client, "EHLO client.example", "MAIL FROM:<a@example.com>", "RCPT TO:<b@example.org>", "DATA");
            assertTrue(client.command("Subject: edit\r\nX-Remove-Me: yes\r\n\r\nbody\r\n.").startsWith("250"));
        }
        assertEquals("from a test plugin; Thu, 1 Jan 2026 00:00:00 +0000", seen.get());
        assertEquals(before + 1, delivered().size());
        String message = deliveredWith("Subject: edit\n");
        assertTrue(message, message.contains("X-Postern-Test: added\n"));
        assertFalse(message, message.contains("X-Remove-Me"));
    }

    @Test
    public void parseAndPreHooksReplaceTheBuiltInParser() throws Exception {
        hook(MAIL_PARSE, 10, ctx -> ctx instanceof org.postern.smtp.api.ParseContext p && p.line().startsWith("FROM:legacy")
                ? HookResult.ok("legacy@example.com") : HookResult.declined());
        hook(MAIL_PRE, 10, ctx -> {
            String address = ((org.postern.smtp.api.AddressPreContext) ctx).address();
            return address.startsWith("<") ? HookResult.declined() : HookResult.ok("<" + address + ">");
        });
        hook(RCPT_PRE, 10, ctx -> {
            String address = ((org.postern.smtp.api.AddressPreContext) ctx).address();
            return address.endsWith(".>") ? HookResult.ok(address.substring(0, address.length() - 2) + ">") : HookResult.declined();
        });
        hook(HELO_PARSE, 10, ctx -> HookResult.ok("rewritten.example"));
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            assertTrue(client.command("HELO whatever").startsWith("250 test.postern Hi"));
            assertEquals("250 2.1.0 <legacy@example.com>, sender OK - how exciting to get mail from you!",
                    client.command("MAIL FROM:legacy-syntax"));
            assertTrue(client.command("RCPT TO:<b@example.org.>").startsWith("250 2.1.5 <b@example.org>"));
            assertTrue(client.command("RCPT TO:<b@example.org> NOTIFY=NEVER").startsWith("555 5.5.4"));
        }
    }

    @Test
    public void syntaxErrorsAndSequenceErrors() throws Exception {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            assertTrue(client.command("MAIL FROM:<a@example.com>").startsWith("503 5.5.1"));
            assertTrue(client.command("HELO").startsWith("501"));
            client.command("EHLO client.example");
            assertTrue(client.command("RCPT TO:<b@example.org>").startsWith("503 5.5.1 Use MAIL before RCPT"));
            assertTrue(client.command("DATA").startsWith("503 5.5.1 MAIL first"));
            assertTrue(client.command("MAIL TO:<a@example.com>").startsWith("501"));
            assertTrue(client.command("MAIL FROM:<not an address>").startsWith("501"));
            assertTrue(client.command("MAIL FROM:<a@example.com> FOO=BAR").startsWith("555 5.5.4"));
            assertTrue(client.command("MAIL FROM:<> BODY=8BITMIME").startsWith("250 2.1.0 <>"));
            assertTrue(client.command("DATA").startsWith("503 5.5.1 RCPT first"));
            assertTrue(client.command("RCPT TO:<>").startsWith("501"));
            assertTrue(client.command("RCPT TO:<postmaster>").startsWith("250 2.1.5 <postmaster>"));
            assertTrue(client.command("").startsWith("500"));
        }
    }

    @Test
    public void aPluginMayAnswerLaterWithoutHoldingAThread() throws Exception {
        CompletableFuture<HookResult> verdict = new CompletableFuture<>();
        hook(RCPT, 10, ctx -> HookResult.later(verdict));
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            send(client, "EHLO client.example", "MAIL FROM:<a@example.com>");
            client.send("RCPT TO:<b@example.org>\r\n");
            client.setTimeoutMillis(300);
            try {
                client.reply();
                throw new AssertionError("the server answered before the plugin did");
            } catch (java.net.SocketTimeoutException expected) {
                // the session waits for the pending answer
            }
            client.setTimeoutMillis(10_000);
            verdict.complete(HookResult.deny("decided later"));
            assertEquals("550 5.7.1 decided later", client.reply());
        }
    }

    @Test
    public void throwingOrHangingPluginsGetATemporaryFailureNotASkip() throws Exception {
        hook(MAIL, 10, ctx -> {
            throw new IllegalStateException("plugin bug");
        });
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            client.command("EHLO client.example");
            assertEquals("451 4.3.0 Temporary failure, please try again later", client.command("MAIL FROM:<a@example.com>"));
        }
        unregisterTestPlugins();
        hook(RCPT, 10, ctx -> HookResult.later(new CompletableFuture<>()));
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            send(client, "EHLO client.example", "MAIL FROM:<a@example.com>");
            long start = System.nanoTime();
            assertEquals("451 4.3.0 Temporary failure, please try again later", client.command("RCPT TO:<b@example.org>"));
            assertTrue("answered after the 2 s hook timeout", System.nanoTime() - start >= 1_900_000_000L);
            assertEquals("250 2.0.0 OK", client.command("NOOP"));
        }
    }

    @Test
    public void notificationHooksHearOfEveryAnswerAndEveryEnd() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        hook(DENY, 10, ctx -> {
            ResultContext result = (ResultContext) ctx;
            events.add("deny:" + result.hookName() + ":" + result.pluginName());
            return HookResult.declined();
        });
        hook(OK, 10, ctx -> {
            ResultContext result = (ResultContext) ctx;
            events.add("ok:" + result.hookName() + ":" + result.result().code());
            return HookResult.declined();
        });
        hook(RESET_TRANSACTION, 10, ctx -> {
            events.add("reset");
            return HookResult.declined();
        });
        hook(DISCONNECT, 10, ctx -> {
            events.add("disconnect");
            return HookResult.declined();
        });
        hook(POST_CONNECTION, 10, ctx -> {
            events.add("post_connection");
            return HookResult.declined();
        });
        hook(RCPT, 10, "blocker", ctx -> ((RcptContext) ctx).recipient().user().equals("blocked")
                ? HookResult.deny() : HookResult.declined());
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            send(client, "EHLO client.example", "MAIL FROM:<a@example.com>", "RCPT TO:<blocked@example.org>",
                    "RCPT TO:<fine@example.org>", "RSET", "QUIT");
        }
        await("post_connection", () -> events.contains("post_connection"));
        assertTrue(events.toString(), events.contains("deny:rcpt:blocker"));
        assertTrue(events.toString(), events.contains("ok:rcpt:DECLINED"));
        assertTrue(events.toString(), events.contains("ok:rcpt:OK"));
        assertTrue(events.toString(), events.indexOf("disconnect") < events.indexOf("post_connection"));
        assertTrue(events.toString(), events.stream().filter("reset"::equals).count() >= 2);
    }

    @Test
    public void aPluginThatDelaysTheGreetingSeesAClientThatTalksFirst() throws Exception {
        List<Boolean> talkedFirst = new CopyOnWriteArrayList<>();
        hook(CONNECT, 10, ctx -> HookResult.later(CompletableFuture.supplyAsync(() -> {
            talkedFirst.add(ctx.session().inputWaiting());
            return HookResult.declined();
        }, CompletableFuture.delayedExecutor(500, TimeUnit.MILLISECONDS))));
        try (java.net.Socket early = new java.net.Socket("127.0.0.1", port)) {
            early.getOutputStream().write("EHLO early.example\r\n".getBytes(StandardCharsets.US_ASCII));
            early.getOutputStream().flush();
            early.setSoTimeout(5000);
            assertEquals('2', early.getInputStream().read());
        }
        try (SmtpClient polite = new SmtpClient(port)) {
            assertTrue(polite.reply().startsWith("220"));
        }
        assertEquals(List.of(true, false), talkedFirst);
    }

    @Test
    public void aPluginHoldsItsOwnExchangeWithPythonSmtplib() throws Exception {
        hook(UNRECOGNIZED_COMMAND, 10, ctx -> !((org.postern.smtp.api.CommandContext) ctx).command().equals("xhello")
                ? HookResult.declined()
                : HookResult.later(ctx.client().respond(334, "who are you?")
                        .thenCompose(v -> ctx.client().readLine())
                        .thenCompose(name -> ctx.client().respond(250, "hello " + name, "on " + Thread.currentThread().getName()))
                        .thenApply(v -> HookResult.done())));
        String script = String.join("\n",
                "import smtplib, sys",
                "with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20) as smtp:",
                "    smtp.ehlo('python.example')",
                "    print(smtp.docmd('XHELLO'))",
                "    print(smtp.docmd('bob'))",
                "    print(smtp.noop())");
        Process python = new ProcessBuilder("python3", "-c", script, Integer.toString(port)).redirectErrorStream(true).start();
        String output = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(output, 0, python.waitFor());
        assertTrue(output, output.contains("(334, b'who are you?')"));
        assertTrue("the plugin's continuation runs on a hook thread: " + output, output.contains("(250, b'hello bob\\non postern-hook-"));
        assertTrue(output, output.contains("(250, b'2.0.0 OK')"));
    }

    @Test
    public void aClientThatLeavesWhileAPluginWaitsForItsLineFailsTheRead() throws Exception {
        CompletableFuture<Throwable> readFailure = new CompletableFuture<>();
        hook(UNRECOGNIZED_COMMAND, 10, ctx -> HookResult.later(ctx.client().readLine().handle((line, error) -> {
            readFailure.complete(error);
            return HookResult.declined();
        })));
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            client.send("XWAIT\r\n");
            Thread.sleep(200);
        }
        Throwable error = readFailure.get(10, TimeUnit.SECONDS);
        assertTrue(String.valueOf(error), error instanceof java.nio.channels.ClosedChannelException);
        try (SmtpClient client = new SmtpClient(port)) {
            assertTrue("the server goes on", client.reply().startsWith("220"));
        }
    }

    @Test
    public void configUserConfigAndLoggingHooksServePlugins() throws Exception {
        List<String> logged = new CopyOnWriteArrayList<>();
        hook(CONFIG, 10, ctx -> switch (((org.postern.smtp.api.ConfigContext) ctx).item()) {
            case "rcpthosts" -> HookResult.ok("only-from-config-hook.test");
            case "me" -> HookResult.ok("mx.from-config-hook.test");
            default -> HookResult.declined();
        });
        hook(LOGGING, 10, ctx -> {
            logged.add(((org.postern.smtp.api.LoggingContext) ctx).pluginName() + ": " + ((org.postern.smtp.api.LoggingContext) ctx).text());
            return HookResult.ok();
        });
        hook(USER_CONFIG, 10, ctx -> {
            org.postern.smtp.api.UserConfigContext lookup = (org.postern.smtp.api.UserConfigContext) ctx;
            return lookup.user().user().equals("vacation") && lookup.item().equals("reject")
                    ? HookResult.ok("on leave until Monday") : HookResult.declined();
        });
        hook(RCPT, 5, ctx -> {
            RcptContext rcpt = (RcptContext) ctx;
            List<String> reject = ctx.userConfig(rcpt.recipient(), "reject");
            return reject.isEmpty() ? HookResult.declined() : HookResult.deny(reject.get(0));
        });
        try (SmtpClient client = new SmtpClient(port)) {
            assertTrue(client.reply().startsWith("220 mx.from-config-hook.test "));
            send(client, "EHLO client.example", "MAIL FROM:<a@example.com>");
            assertTrue(client.command("RCPT TO:<b@only-from-config-hook.test>").startsWith("250"));
            assertEquals("550 5.7.1 Relaying denied", client.command("RCPT TO:<b@example.org>"));
            assertEquals("550 5.7.1 on leave until Monday", client.command("RCPT TO:<vacation@only-from-config-hook.test>"));
        }
        // lines reach logging plugins on the logging thread, a moment after they are logged
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String coreLine = ": RCPT TO <b@example.org> not accepted: DENY";
        while (logged.stream().noneMatch(line -> line.startsWith(coreLine)) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(logged.toString(), logged.contains("rcpt_ok: pass: only-from-config-hook.test in rcpthosts"));
        assertTrue("the core's own lines, with no plugin name: " + logged,
                logged.stream().anyMatch(line -> line.startsWith(coreLine)));
    }

    @Test
    public void userConfigFallsBackToFactoryConfigurationsPerUserAndDomain() throws Exception {
        configAdmin.createFactoryConfiguration("org.postern.smtp.userconfig", "?")
                .update(new Hashtable<>(Map.of("domain", "example.org", "greeting", "hello domain")));
        configAdmin.createFactoryConfiguration("org.postern.smtp.userconfig", "?")
                .update(new Hashtable<>(Map.of("user", "Boss@Example.org", "greeting", "hello boss")));
        hook(RCPT, 5, ctx -> {
            List<String> greeting = ctx.userConfig(((RcptContext) ctx).recipient(), "greeting");
            return greeting.isEmpty() ? HookResult.declined() : HookResult.deny(greeting.get(0));
        });
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            send(client, "EHLO client.example", "MAIL FROM:<a@example.com>");
            await("both user configurations", () -> {
                try {
                    return client.command("RCPT TO:<boss@example.org>").equals("550 5.7.1 hello boss")
                            && client.command("RCPT TO:<staff@example.org>").equals("550 5.7.1 hello domain");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertTrue(client.command("RCPT TO:<someone@sub.example.net>").startsWith("250"));
        }
    }

    @Test
    public void anEmptyMessageAndAHeaderWithoutBodyAreDeliveredAsQpsmtpdAndPostfixDo() throws Exception {
        List<String> hooksRun = new java.util.concurrent.CopyOnWriteArrayList<>();
        hook(DATA_HEADERS_END, 10, ctx -> {
            hooksRun.add("data_headers_end");
            return HookResult.declined();
        });
        hook(DATA_POST_HEADERS, 10, ctx -> {
            hooksRun.add("data_post_headers");
            return HookResult.declined();
        });
        int before = Files.isDirectory(maildir.resolve("new")) ? delivered().size() : 0;
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            send(client, "EHLO client.example", "MAIL FROM:<a@example.com>", "RCPT TO:<bob@example.org>", "DATA");
            assertTrue(client.command(".").startsWith("250 2.0.0 Queued as "));
            send(client, "MAIL FROM:<a@example.com>", "RCPT TO:<bob@example.org>", "DATA");
            assertTrue(client.command("Subject: header only\r\n.").startsWith("250 2.0.0 Queued as "));
        }
        assertEquals(List.of("data_headers_end", "data_post_headers", "data_headers_end", "data_post_headers"), hooksRun);
        List<Path> files = delivered();
        assertEquals(before + 2, files.size());
        String headerOnly = deliveredWith("Subject: header only\n");
        assertTrue(headerOnly, headerOnly.endsWith("\nSubject: header only\n\n"));
    }

    @Test
    public void aRefusalWithItsOwnReplyAtDataHeadersEndWaitsForTheEndOfData() throws Exception {
        hook(DATA_HEADERS_END, 10, ctx -> HookResult.done(554, "No thanks").withEnhancedStatus("5.7.1"));
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            send(client, "EHLO client.example", "MAIL FROM:<a@example.com>", "RCPT TO:<bob@example.org>", "DATA");
            client.send("Subject: refused\r\n\r\nMAIL FROM:<smuggled@example.com>\r\nRCPT TO:<bob@example.org>\r\n");
            assertEquals("554 5.7.1 No thanks", client.command("."));
            assertEquals("250 2.0.0 OK", client.command("NOOP"));
        }
    }

    @Test
    public void aContentFilterRewritesSenderRecipientsAndBodyOfWhatIsDelivered() throws Exception {
        hook(DATA_POST, 10, ctx -> {
            try {
                String body = Files.readString(ctx.transaction().bodyFile(), StandardCharsets.ISO_8859_1);
                ctx.transaction().changeSender(org.postern.smtp.api.Address.parse("<srs0=ab=cd=example.com=a@example.org>").orElseThrow());
                ctx.transaction().changeRecipients(List.of(new org.postern.smtp.api.Recipient(
                        org.postern.smtp.api.Address.parse("<archive@example.org>").orElseThrow(), Map.of())));
                ctx.transaction().replaceBody(new java.io.ByteArrayInputStream(
                        ("[filtered]\r\n" + body).getBytes(StandardCharsets.ISO_8859_1)));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return HookResult.declined();
        });
        int before = Files.isDirectory(maildir.resolve("new")) ? delivered().size() : 0;
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            send(client, "EHLO client.example", "MAIL FROM:<a@example.com>", "RCPT TO:<bob@example.org>", "DATA");
            assertTrue(client.command("Subject: filter me\r\n\r\noriginal\r\n.").startsWith("250 2.0.0 Queued as "));
        }
        List<Path> files = delivered();
        assertEquals(before + 1, files.size());
        String message = deliveredWith("Subject: filter me\n");
        assertTrue(message, message.startsWith("Return-Path: <srs0=ab=cd=example.com=a@example.org>\nDelivered-To: archive@example.org\n"));
        assertTrue(message, message.endsWith("Subject: filter me\n\n[filtered]\noriginal\n"));
    }

    @Test
    public void aMessageWhoseClientLeftBeforeItsReplyIsNotDelivered() throws Exception {
        java.util.concurrent.CountDownLatch clientGone = new java.util.concurrent.CountDownLatch(1);
        hook(DATA_POST, 10, ctx -> {
            try {
                clientGone.await(5, java.util.concurrent.TimeUnit.SECONDS);
                Thread.sleep(300); // the server notices the closed connection meanwhile
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return HookResult.declined();
        });
        List<Boolean> queueCalled = new java.util.concurrent.CopyOnWriteArrayList<>();
        hook(QUEUE, 5, ctx -> {
            queueCalled.add(true);
            return HookResult.declined();
        });
        int before = Files.isDirectory(maildir.resolve("new")) ? delivered().size() : 0;
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            send(client, "EHLO client.example", "MAIL FROM:<a@example.com>", "RCPT TO:<bob@example.org>", "DATA");
            client.send("Subject: impatient\r\n\r\nbody\r\n.\r\n");
        }
        clientGone.countDown();
        Thread.sleep(1000);
        assertEquals("the sender got no 250 and will send it again", List.of(), queueCalled);
        assertEquals(before, Files.isDirectory(maildir.resolve("new")) ? delivered().size() : 0);
    }

    @Test
    public void aQueuePluginThatMissedItsTimeIsToldNotToCommitAndOneThatCommittedIsAwaited() throws Exception {
        List<Boolean> commits = new java.util.concurrent.CopyOnWriteArrayList<>();
        var late = hook(QUEUE, 5, ctx -> {
            sleep(3000);
            commits.add(ctx.commit());
            return HookResult.ok("Queued late");
        });
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            send(client, "EHLO client.example", "MAIL FROM:<a@example.com>", "RCPT TO:<bob@example.org>", "DATA");
            assertEquals("451 4.3.0 Temporary failure, please try again later", client.command("Subject: slow queue\r\n\r\nbody\r\n."));
            await("the late plugin's commit", () -> !commits.isEmpty());
            assertEquals(List.of(false), commits);
        }
        late.unregister();
        hook(QUEUE, 5, ctx -> {
            commits.add(ctx.commit());
            sleep(3000);
            return HookResult.ok("Queued after a while");
        });
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            send(client, "EHLO client.example", "MAIL FROM:<a@example.com>", "RCPT TO:<bob@example.org>", "DATA");
            long start = System.nanoTime();
            assertEquals("250 2.0.0 Queued after a while", client.command("Subject: committed\r\n\r\nbody\r\n."));
            assertTrue("answered past the 2 s timeout", System.nanoTime() - start > 2_500_000_000L);
            assertEquals(List.of(false, true), commits);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    public void aPluginArrivingOrLeavingMidSessionTakesEffectAtTheNextCommand() throws Exception {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            send(client, "EHLO client.example", "MAIL FROM:<a@example.com>");
            assertEquals("550 5.7.1 Relaying denied", client.command("RCPT TO:<one@elsewhere.test>"));
            var registration = hook(RCPT, 10, ctx -> HookResult.ok());
            assertTrue(client.command("RCPT TO:<two@elsewhere.test>").startsWith("250"));
            registration.setProperties(new Hashtable<>(Map.of("postern.hook", "rcpt", "postern.hook.order", "2000",
                    "postern.plugin", "late-accepter")));
            var denier = hook(RCPT, 500, ctx -> HookResult.deny("denier runs first now"));
            assertEquals("550 5.7.1 denier runs first now", client.command("RCPT TO:<three@elsewhere.test>"));
            denier.unregister();
            registration.unregister();
            assertEquals("550 5.7.1 Relaying denied", client.command("RCPT TO:<four@elsewhere.test>"));
            assertTrue(client.command("RCPT TO:<five@example.org>").startsWith("250"));
            assertTrue(client.command("DATA").startsWith("354"));
            assertTrue(client.command("Subject: survived\r\n\r\nbody\r\n.").startsWith("250 2.0.0 Queued"));
        }
    }
}
