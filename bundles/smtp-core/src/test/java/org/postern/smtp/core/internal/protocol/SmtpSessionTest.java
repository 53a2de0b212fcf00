package org.postern.smtp.core.internal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.AuthHook;
import org.postern.smtp.api.ConfigHook;
import org.postern.smtp.api.DataHeadersEndHook;
import org.postern.smtp.api.DataHook;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.DisconnectHook;
import org.postern.smtp.api.EhloHook;
import org.postern.smtp.api.PostConnectionHook;
import org.postern.smtp.api.PreConnectionHook;
import org.postern.smtp.api.QueuePostHook;
import org.postern.smtp.api.QuitHook;
import org.postern.smtp.api.DataPostHeadersHook;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.MailHook;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.QueueHook;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.ResetTransactionHook;
import org.postern.smtp.api.Transaction;
import org.postern.smtp.api.UnrecognizedCommandHook;
import org.postern.smtp.api.monitor.ServerMonitor;
import org.postern.smtp.api.monitor.TransactionRecord;
import org.postern.smtp.core.internal.dispatch.HookChains;
import org.postern.smtp.core.internal.dispatch.HookRunner;
import org.postern.smtp.core.internal.dispatch.Statistics;
import org.postern.smtp.core.internal.dispatch.TestHooks;
import org.postern.smtp.core.internal.protocol.SessionSettings.BareLineEndings;

/** The state machine alone: lines in, replies out, every hook run on the calling thread. */
class SmtpSessionTest {
    @TempDir
    Path spool;

    private Path spoolFolder;
    private ReverseLookup reverseLookup = ReverseLookup.NONE;
    private final AtomicReference<String> queued = new AtomicReference<>();
    private final List<String> resets = new ArrayList<>();
    private final RecordingTransport transport = new RecordingTransport();
    private final List<String> replies = transport.replies();
    private final List<TransactionRecord> ended = new ArrayList<>();
    private final Statistics statistics = new Statistics(List.of(new ServerMonitor() {
        @Override
        public void transactionEnded(TransactionRecord transaction) {
            ended.add(transaction);
        }
    }));

    private SmtpSession session(BareLineEndings bareLineEndings, long maxSize) {
        return session(bareLineEndings, maxSize, hooks -> { });
    }

    private SmtpSession session(BareLineEndings bareLineEndings, long maxSize, Consumer<TestHooks> extraHooks) {
        TestHooks hooks = new TestHooks();
        extraHooks.accept(hooks);
        HookChains chains = hooks
                .add(HookType.RCPT, "accept-example-org", 10, (RcptHook) ctx ->
                        ctx.recipient().normalizedHost().orElse("").equals("example.org") ? HookResult.ok() : HookResult.declined())
                .add(HookType.QUEUE, "capture", 10, (QueueHook) ctx -> {
                    queued.set(TestHooks.message(ctx.transaction()));
                    return HookResult.ok();
                })
                .add(HookType.RESET_TRANSACTION, "resets", 10, (ResetTransactionHook) ctx -> {
                    resets.add(ctx.transaction().sender().map(Object::toString).orElse("none"));
                    return HookResult.declined();
                })
                .chains();
        SessionSettings settings = new SessionSettings("mx.test", "ESMTP ready", maxSize, 3, 512, 4096, 20,
                bareLineEndings, spoolFolder == null ? spool : spoolFolder, 64, SessionSettings.AuthPolicy.UNTHROTTLED);
        HookRunner runner = new HookRunner(Runnable::run, TestHooks.TIMER, Duration.ofSeconds(5), HookResult.denySoft("failed").withReplyCode(451), new Statistics());
        SmtpSession session = new SmtpSession("t.1", "default", new InetSocketAddress("192.0.2.7", 4000), new InetSocketAddress("127.0.0.1", 25),
                settings, runner, () -> chains, TestHooks.NO_SUPPORT, reverseLookup, transport, statistics, new AuthFailureBudget(30, Duration.ofMinutes(10), 64));
        session.start(1, 1);
        return session;
    }

    private String say(SmtpSession session, String line) {
        int before = replies.size();
        session.onLine(SmtpLine.of(line));
        return replies.size() > before ? replies.get(replies.size() - 1) : null;
    }

    private SmtpSession inData(SmtpSession session) {
        say(session, "EHLO client.example");
        say(session, "MAIL FROM:<a@b.example>");
        say(session, "RCPT TO:<c@example.org>");
        assertEquals("354 go ahead", say(session, "DATA"));
        return session;
    }

    @Test
    void anEmptyMessageAndAHeaderWithoutBodyAreAnsweredAndQueued() {
        List<String> headerHooks = new ArrayList<>();
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.DATA_HEADERS_END, "seen", 10, (DataHeadersEndHook) ctx -> {
                    headerHooks.add("data_headers_end " + ctx.transaction().header().orElseThrow().fields().stream().map(HeaderField::name).toList());
                    return HookResult.declined();
                })
                .add(HookType.DATA_POST_HEADERS, "seen", 10, (DataPostHeadersHook) ctx -> {
                    headerHooks.add("data_post_headers");
                    return HookResult.declined();
                }));
        inData(session);
        assertEquals("250 2.0.0 Queued", say(session, "."));
        assertTrue(queued.get().startsWith("Received: from [192.0.2.7]"), queued.get());
        assertEquals(List.of("data_headers_end []", "data_post_headers"), headerHooks);
        headerHooks.clear();
        inData(session);
        say(session, "Subject: x");
        assertEquals("250 2.0.0 Queued", say(session, "."));
        assertTrue(queued.get().endsWith("\r\nSubject: x\r\n\r\n"), queued.get());
        assertEquals(List.of("data_headers_end [Subject]", "data_post_headers"), headerHooks);
    }

    @Test
    void eachTransactionThatBeganEndsInOneRecordWithItsOutcomeAndReply() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.DATA_POST, "refuses-spam", 10, (DataPostHook) ctx -> ctx.transaction().size() > 20
                        ? HookResult.deny("spam") : HookResult.declined()));
        say(session, "EHLO client.example");
        say(session, "MAIL FROM:<>");
        say(session, "RSET");
        say(session, "MAIL FROM:<nobody@b.example>");
        inData(session);
        say(session, "Subject: hi");
        assertEquals("250 2.0.0 Queued", say(session, "."));
        inData(session);
        say(session, "Subject: a long spammy subject line");
        assertEquals("552 5.7.1 spam", say(session, "."), "qpsmtpd answers a DENY at data_post with 552");
        assertEquals(4, ended.size(), ended.toString());
        assertEquals(List.of(TransactionRecord.Outcome.ABANDONED, TransactionRecord.Outcome.ABANDONED,
                TransactionRecord.Outcome.QUEUED, TransactionRecord.Outcome.REFUSED), ended.stream().map(TransactionRecord::outcome).toList());
        TransactionRecord queuedOne = ended.get(2);
        assertEquals("<a@b.example>", queuedOne.sender());
        assertEquals(List.of("<c@example.org>"), queuedOne.recipients());
        assertEquals("250 2.0.0 Queued", queuedOne.reply());
        assertTrue(queuedOne.size() > 0);
        assertTrue(queuedOne.logLine().matches("id=t\\.1\\.3 listener=default client=192\\.0\\.2\\.7 from=<a@b\\.example> to=<c@example\\.org>"
                + " recipients=1 size=\\d+ result=queued reply=\"250 2\\.0\\.0 Queued\" time=\\d+ms"), queuedOne.logLine());
        assertEquals("552 5.7.1 spam", ended.get(3).reply());
        assertEquals("<>", ended.get(0).sender());
    }

    @Test
    void eachTransactionHasTheSessionsIdAndItsNumber() {
        List<String> ids = new ArrayList<>();
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.MAIL, "ids", 10, (MailHook) ctx -> {
                    ids.add(ctx.transaction().id());
                    return HookResult.declined();
                }));
        inData(session);
        say(session, ".");
        say(session, "MAIL FROM:<a@b.example>");
        say(session, "RSET");
        say(session, "MAIL FROM:<a@b.example>");
        String sessionId = session.id();
        assertEquals(List.of(sessionId + ".1", sessionId + ".2", sessionId + ".3"), ids);
    }

    @Test
    void aRefusalWithDoneAtDataHeadersEndReadsTheRestOfTheMessageThenAnswersOnce() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.DATA_HEADERS_END, "refuse", 10, (DataHeadersEndHook) ctx -> HookResult.done(554, "go away")));
        inData(session);
        say(session, "Subject: x");
        assertEquals(null, say(session, ""));
        assertEquals(null, say(session, "MAIL FROM:<smuggled@example.org>"));
        assertEquals(null, say(session, "RCPT TO:<c@example.org>"));
        assertTrue(session.inData());
        assertEquals("554 5.0.0 go away", say(session, "."));
        assertEquals(null, queued.get());
        assertEquals("250 2.0.0 OK", say(session, "NOOP"));
        assertEquals("503 5.5.1 Use MAIL before RCPT", say(session, "RCPT TO:<c@example.org>"));
    }

    @Test
    void aSpoolThatCannotBeWrittenRefusesTheMessageAtTheDotWith452() throws IOException {
        spoolFolder = java.nio.file.Files.createFile(spool.resolve("not-a-folder")).resolve("spool");
        SmtpSession session = inData(session(BareLineEndings.REJECT, 100_000));
        say(session, "Subject: big");
        say(session, "");
        for (int i = 0; i < 20; i++) {
            assertEquals(null, say(session, "x".repeat(70)));
        }
        assertEquals("452 4.3.1 Insufficient system storage, try again later", say(session, "."));
        assertEquals(null, queued.get());
        assertEquals("250 2.0.0 OK", say(session, "NOOP"));
        inData(session);
        say(session, "Subject: small");
        assertEquals("250 2.0.0 Queued", say(session, "."), "a message that fits in memory still goes through");
    }

    @Test
    void aDoneReplyThatCannotBeSentThereIsRefused() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.MAIL, "continue", 10, (MailHook) ctx -> HookResult.done(354, "go on")));
        say(session, "EHLO client.example");
        assertEquals("451 4.3.0 Temporary failure, please try again later", say(session, "MAIL FROM:<a@b.example>"));
        assertEquals("250 2.0.0 OK", say(session, "NOOP"), "no line is taken as an answer to a 354");
    }

    @Test
    void onlyTheQueuesOkClaimsAMessageWasAccepted() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.QUEUE, "claims", 5, (QueueHook) ctx -> HookResult.done(250, "fine, trust me")));
        inData(session);
        say(session, "Subject: x");
        assertEquals("451 4.3.0 Temporary failure, please try again later", say(session, "."));
        assertEquals(null, queued.get());
    }

    @Test
    void aMessageWhoseClientLeftWhileContentHooksRanIsNeitherQueuedNorReadable() {
        CompletableFuture<HookResult> verdict = new CompletableFuture<>();
        AtomicReference<Transaction> seen = new AtomicReference<>();
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.DATA_POST, "slow", 10, (DataPostHook) ctx -> {
                    seen.set(ctx.transaction());
                    return HookResult.later(verdict);
                }));
        inData(session);
        say(session, "Subject: x");
        say(session, "");
        say(session, "body");
        assertEquals(null, say(session, "."));
        session.onClosed();
        verdict.complete(HookResult.declined());
        assertEquals(null, queued.get());
        assertThrows(IOException.class, () -> seen.get().body().readAllBytes());
    }

    @Test
    void anOverlongAuthExchangeLineEndsTheExchange() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.AUTH, "nobody", 10, (AuthHook) ctx -> HookResult.deny()));
        say(session, "EHLO client.example");
        assertEquals("334 VXNlcm5hbWU6", say(session, "AUTH LOGIN"));
        assertEquals("500 5.5.6 Authentication Exchange line is too long", say(session, "A".repeat(600)));
        assertEquals("250 2.0.0 OK", say(session, "NOOP"));
    }

    @Test
    void anAcceptingPluginsTextReplacesTheDefaultAsTheReadmeSays() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.EHLO, "greets", 5, (EhloHook) ctx -> HookResult.ok("welcome back"))
                .add(HookType.MAIL, "likes", 5, (MailHook) ctx -> HookResult.ok("known sender"))
                .add(HookType.RCPT, "likes", 5, (RcptHook) ctx -> HookResult.ok("known recipient"))
                .add(HookType.DATA, "likes", 5, (DataHook) ctx -> HookResult.ok("send it"))
                .add(HookType.QUIT, "waves", 5, (QuitHook) ctx -> HookResult.ok("see you")));
        assertTrue(say(session, "EHLO client.example").startsWith("250-mx.test welcome back\r\n250-PIPELINING"));
        assertEquals("250 2.1.0 known sender", say(session, "MAIL FROM:<a@b.example>"));
        assertEquals("250 2.1.5 known recipient", say(session, "RCPT TO:<c@example.org>"));
        assertEquals("354 send it", say(session, "DATA"));
        assertEquals("250 2.0.0 Queued", say(session, "."));
        assertEquals("221 2.0.0 see you", say(session, "QUIT"));
    }

    @Test
    void parametersTheCoreDoesNotKnowGoToThePluginsAnd555OnlyWhenNoneTakesThem() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.MAIL, "xclient", 5, (MailHook) ctx -> {
                    if (ctx.parameters().containsKey("xtrace")) {
                        ctx.acceptParameter("XTRACE");
                    }
                    return HookResult.declined();
                })
                .add(HookType.RCPT, "dsn", 5, (RcptHook) ctx -> {
                    if (ctx.parameters().containsKey("notify")) {
                        ctx.acceptParameter("notify");
                    }
                    return HookResult.declined();
                }));
        say(session, "EHLO client.example");
        assertTrue(say(session, "MAIL FROM:<a@b.example> AUTH=<>").startsWith("250 "), "RFC 4954 5: AUTH= is accepted");
        assertEquals("555 5.5.4 Unsupported parameter FOO", say(session, "MAIL FROM:<a@b.example> FOO=BAR"));
        assertTrue(say(session, "MAIL FROM:<a@b.example> XTRACE=1 SIZE=10").startsWith("250 "), "a plugin took XTRACE");
        assertEquals("555 5.5.4 Unsupported parameter ORCPT", say(session, "RCPT TO:<c@example.org> ORCPT=rfc822;c@example.org"));
        assertTrue(say(session, "RCPT TO:<c@example.org> NOTIFY=NEVER").startsWith("250 2.1.5"));
        assertEquals("501 5.5.2 Syntax error in parameters", say(session, "MAIL FROM:<a@b.example> AUTH="));
    }

    @Test
    void pluginsOfferExtensionsInTheEhloReplyOnly() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.EHLO, "xclient", 5, (EhloHook) ctx -> {
                    ((org.postern.smtp.api.HeloContext) ctx).offerCapability("XCLIENT NAME ADDR");
                    return HookResult.declined();
                }));
        assertTrue(say(session, "EHLO client.example").endsWith("\r\n250 XCLIENT NAME ADDR"));
        assertTrue(say(session, "HELO client.example").startsWith("250 mx.test Hi"));
    }

    @Test
    void aContentFilterRewritesTheEnvelopeAndTheBodyBeforeTheQueue() throws IOException {
        List<String> queuedFor = new ArrayList<>();
        List<String> bodyFiles = new ArrayList<>();
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.DATA_POST, "filter", 10, (DataPostHook) ctx -> {
                    try {
                        java.nio.file.Path file = ctx.transaction().bodyFile();
                        bodyFiles.add(java.nio.file.Files.readString(file, StandardCharsets.ISO_8859_1));
                        bodyFiles.add(file.getParent().equals(spool) ? "in the spool folder" : "elsewhere: " + file);
                        ctx.transaction().changeSender(org.postern.smtp.api.Address.parse("<bounces@example.org>").orElseThrow());
                        ctx.transaction().changeRecipients(List.of(new org.postern.smtp.api.Recipient(
                                org.postern.smtp.api.Address.parse("<archive@example.org>").orElseThrow(), java.util.Map.of())));
                        ctx.transaction().replaceBody(new java.io.ByteArrayInputStream("rewritten\r\n".getBytes(StandardCharsets.ISO_8859_1)));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    return HookResult.declined();
                })
                .add(HookType.QUEUE, "envelope", 5, (QueueHook) ctx -> {
                    queuedFor.add(ctx.transaction().sender().orElseThrow().format() + " -> "
                            + ctx.transaction().recipients().get(0).address().format());
                    return HookResult.declined();
                }));
        inData(session);
        say(session, "Subject: original");
        say(session, "");
        say(session, "original body");
        assertEquals("250 2.0.0 Queued", say(session, "."));
        assertEquals(List.of("original body\r\n", "in the spool folder"), bodyFiles);
        assertEquals(List.of("<bounces@example.org> -> <archive@example.org>"), queuedFor);
        assertTrue(queued.get().endsWith("Subject: original\r\n\r\nrewritten\r\n"), queued.get());
        try (java.util.stream.Stream<java.nio.file.Path> left = java.nio.file.Files.list(spool)) {
            assertEquals(0, left.count(), "both bodies' files are gone with the transaction");
        }
    }

    @Test
    void aBareDoneAtDataDoesNotStartTheMessage() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.DATA, "claims", 5, (DataHook) ctx -> HookResult.done()));
        say(session, "EHLO client.example");
        say(session, "MAIL FROM:<a@b.example>");
        say(session, "RCPT TO:<c@example.org>");
        assertEquals("451 4.3.0 Message not accepted, please try again later", say(session, "DATA"));
        assertFalse(session.inData());
        assertEquals("503 5.5.1 Use MAIL before RCPT", say(session, "RCPT TO:<c@example.org>"), "the transaction ended");
    }

    @Test
    void queuePostHearsOfEveryOutcomeButADone() {
        List<String> heard = new ArrayList<>();
        AtomicInteger messages = new AtomicInteger();
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.QUEUE, "refuses-first", 5, (QueueHook) ctx ->
                        messages.getAndIncrement() == 0 ? HookResult.done(554, "not here") : HookResult.declined())
                .add(HookType.QUEUE_POST, "listener", 10, (QueuePostHook) ctx -> {
                    heard.add("queue_post");
                    return HookResult.declined();
                }));
        inData(session);
        assertEquals("554 5.0.0 not here", say(session, "."));
        assertEquals(List.of(), heard);
        inData(session);
        assertEquals("250 2.0.0 Queued", say(session, "."));
        assertEquals(List.of("queue_post"), heard);
    }

    @Test
    void queuePostHearsOfAQueuePluginThatFailedAndA421FromQueueCloses() {
        List<String> heard = new ArrayList<>();
        AtomicInteger messages = new AtomicInteger();
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.QUEUE, "fails-then-closes", 5, (QueueHook) ctx -> {
                    if (messages.getAndIncrement() == 0) {
                        throw new IllegalStateException("disk on fire");
                    }
                    return HookResult.denySoft("going away").withReplyCode(421);
                })
                .add(HookType.QUEUE_POST, "listener", 10, (QueuePostHook) ctx -> {
                    heard.add("queue_post");
                    return HookResult.declined();
                }));
        inData(session);
        assertEquals("451 4.3.0 failed", say(session, "."));
        assertEquals(List.of("queue_post"), heard);
        assertFalse(transport.closed());
        inData(session);
        assertEquals("421 4.3.0 going away", say(session, "."));
        assertEquals(List.of("queue_post", "queue_post"), heard);
        assertTrue(transport.closed(), "a 421 closes the connection");
    }

    @Test
    void doneAtPreConnectionIsIgnoredAndTheClientIsGreeted() {
        session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.PRE_CONNECTION, "claims", 5, (PreConnectionHook) ctx -> HookResult.done(554, "silent")));
        assertEquals(List.of("220 mx.test ESMTP ready"), replies);
        assertFalse(transport.closed());
    }

    @Test
    void aClientThatLeavesWithoutQuitGetsDisconnectAndResetTransactionRun() {
        List<String> heard = new ArrayList<>();
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.DISCONNECT, "listener", 10, (DisconnectHook) ctx -> {
                    heard.add("disconnect");
                    return HookResult.declined();
                })
                .add(HookType.POST_CONNECTION, "listener", 10, (PostConnectionHook) ctx -> {
                    heard.add("post_connection");
                    return HookResult.declined();
                }));
        say(session, "EHLO client.example");
        say(session, "MAIL FROM:<a@b.example>");
        resets.clear();
        session.onClosed();
        assertEquals(List.of("disconnect", "post_connection"), heard);
        assertEquals(List.of("<a@b.example>"), resets, "reset_transaction saw the transaction that was cut off");
    }

    @Test
    void postConnectionWaitsForTheDisconnectHookEvenWhenTheClientLeftFirst() {
        List<String> heard = new ArrayList<>();
        CompletableFuture<HookResult> slowDisconnect = new CompletableFuture<>();
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.DISCONNECT, "slow", 10, (DisconnectHook) ctx -> {
                    heard.add("disconnect");
                    return HookResult.later(slowDisconnect);
                })
                .add(HookType.POST_CONNECTION, "listener", 10, (PostConnectionHook) ctx -> {
                    heard.add("post_connection");
                    return HookResult.declined();
                }));
        assertTrue(say(session, "QUIT").startsWith("221 "));
        session.onClosed();
        assertEquals(List.of("disconnect"), heard, "the client hung up after 221; the disconnect hook still runs first");
        slowDisconnect.complete(HookResult.declined());
        assertEquals(List.of("disconnect", "post_connection"), heard);
    }

    @Test
    void theHeaderLimitAndALongLineAtTheFinalDotAreAnswered() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000);
        inData(session);
        for (int i = 0; i < 60; i++) {
            say(session, "X-Filler-" + i + ": " + "h".repeat(70));
        }
        assertEquals("552 5.3.4 Message header too large", say(session, "."));
        inData(session);
        say(session, "Subject: x");
        session.onLine(new SmtpLine(new byte[0], true, false, true));
        assertEquals("500 5.5.2 Message line too long", say(session, "."));
        assertEquals(null, queued.get());
    }

    private static SmtpLine bareLf(String text) {
        return new SmtpLine(text.getBytes(StandardCharsets.ISO_8859_1), false, false, false);
    }

    @Test
    void aPluginHoldsItsOwnExchangeAndItsFinalReplyIsTheCommands() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.UNRECOGNIZED_COMMAND, "dialogue", 10, (UnrecognizedCommandHook) ctx -> HookResult.later(
                        ctx.client().respond(334, "who are you?")
                                .thenCompose(v -> ctx.client().readLine())
                                .thenCompose(name -> ctx.client().respond(250, "hello " + name))
                                .thenApply(v -> HookResult.done()))));
        assertEquals("334 who are you?", say(session, "XHELLO"));
        assertTrue(session.busy());
        assertTrue(transport.typeForPlugin("bob"));
        assertEquals(List.of("220 mx.test ESMTP ready", "334 who are you?", "250 hello bob"), replies,
                "a bare DONE after the plugin's own final reply adds nothing");
        assertFalse(session.busy());
        assertEquals("250 2.0.0 OK", say(session, "NOOP"));
    }

    @Test
    void aPluginsFinalReplyStandsInForTheCoresButTheAnswerStillCounts() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.RCPT, "own-words", 5, (RcptHook) ctx -> HookResult.later(
                        ctx.client().respond(250, "noted, " + ctx.recipient().format()).thenApply(v -> HookResult.ok()))));
        say(session, "EHLO client.example");
        say(session, "MAIL FROM:<a@b.example>");
        assertEquals("250 noted, <c@example.net>", say(session, "RCPT TO:<c@example.net>"));
        assertEquals("354 go ahead", say(session, "DATA"), "the recipient was accepted");
    }

    @Test
    void pluginsCannotTalkToAClientThatIsSendingAMessage() {
        List<Throwable> refused = new ArrayList<>();
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.DATA_HEADERS_END, "too-early", 10, (DataHeadersEndHook) ctx -> {
                    ctx.client().respond(250, "too early").whenComplete((v, error) -> refused.add(error));
                    ctx.client().readLine().whenComplete((v, error) -> refused.add(error));
                    ctx.client().respond(199, "no such code").whenComplete((v, error) -> refused.add(error));
                    return HookResult.declined();
                }));
        inData(session);
        say(session, "Subject: x");
        say(session, "");
        assertEquals("250 2.0.0 Queued", say(session, "."));
        assertEquals(3, refused.size());
        assertTrue(refused.get(0) instanceof IllegalStateException, refused.toString());
        assertTrue(refused.get(1) instanceof IllegalStateException, refused.toString());
        assertTrue(refused.get(2) instanceof IllegalArgumentException, refused.toString());
    }

    @Test
    void theClientsHostNameFromReverseDnsIsKnownFromPreConnectionAndInTheReceivedHeader() {
        reverseLookup = address -> CompletableFuture.completedFuture(List.of("mx.client.test", "other.client.test"));
        List<String> seen = new ArrayList<>();
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.PRE_CONNECTION, "sees", 10, (PreConnectionHook) ctx -> {
                    seen.add(ctx.session().remoteHost() + " " + ctx.session().remoteInfo());
                    return HookResult.declined();
                }));
        assertEquals(List.of("mx.client.test mx.client.test"), seen);
        inData(session);
        say(session, "Subject: x");
        say(session, ".");
        assertTrue(queued.get().startsWith("Received: from mx.client.test (HELO client.example) (192.0.2.7)"), queued.get());
    }

    @Test
    void aHostNameIsKeptToTheCharactersOfAHostNameAndAFailedLookupLeavesTheAddress() {
        List<String> names = new ArrayList<>();
        reverseLookup = address -> CompletableFuture.completedFuture(List.of("evil.test\r\nX-Injected: yes"));
        SmtpSession cleaned = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.PRE_CONNECTION, "sees", 10, (PreConnectionHook) ctx -> {
                    names.add(ctx.session().remoteHost());
                    return HookResult.declined();
                }));
        reverseLookup = address -> CompletableFuture.failedFuture(new java.io.IOException("timeout"));
        session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.PRE_CONNECTION, "sees", 10, (PreConnectionHook) ctx -> {
                    names.add(ctx.session().remoteHost());
                    return HookResult.declined();
                }));
        assertEquals(List.of("evil.testX-Injectedyes", "[192.0.2.7]"), names);
        assertFalse(cleaned.closed());
    }

    @Test
    void aPluginsTemporaryFileIsInTheSpoolFolderAndGoesWithTheTransaction() {
        List<Path> files = new ArrayList<>();
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.DATA_POST, "scratch", 10, (DataPostHook) ctx -> {
                    try {
                        Path file = ctx.transaction().tempFile();
                        Files.writeString(file, "report");
                        files.add(file);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    return HookResult.declined();
                }));
        inData(session);
        say(session, "Subject: x");
        assertEquals("250 2.0.0 Queued", say(session, "."));
        assertEquals(1, files.size());
        assertEquals(spool, files.get(0).getParent());
        assertFalse(Files.exists(files.get(0)), "deleted with the transaction");
    }

    @Test
    void configPluginsAnswerForTheCoresOwnItems() {
        java.util.Map<String, String> items = java.util.Map.of("me", "mx.other", "smtpgreeting", "Welcome to mx.other",
                "databytes", "100", "tls_before_auth", "0");
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.CONFIG, "items", 10, (ConfigHook) ctx ->
                        items.containsKey(ctx.item()) ? HookResult.ok(items.get(ctx.item())) : HookResult.declined()));
        assertEquals("220 Welcome to mx.other ESMTP", replies.get(0));
        String ehlo = say(session, "EHLO client.example");
        assertTrue(ehlo.startsWith("250-mx.other Hi 192.0.2.7"), ehlo);
        assertTrue(ehlo.contains("250-SIZE 100\r\n"), ehlo);
        assertEquals("552 5.3.4 Message size exceeds fixed maximum message size", say(session, "MAIL FROM:<a@b.example> SIZE=101"));
    }

    @Test
    void anUnusableConfigAnswerKeepsTheServersSetting() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.CONFIG, "items", 10, (ConfigHook) ctx -> switch (ctx.item()) {
                    case "databytes" -> HookResult.ok("0");
                    case "me" -> HookResult.ok("two words");
                    default -> HookResult.declined();
                }));
        assertEquals("220 mx.test ESMTP ready", replies.get(0));
        assertTrue(say(session, "EHLO client.example").contains("250-SIZE 100000\r\n"));
    }

    @Test
    void aWholeTransactionQueuesTheMessageWithAReceivedHeader() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000);
        assertEquals("220 mx.test ESMTP ready", replies.get(0));
        assertTrue(say(session, "EHLO client.example").startsWith("250-mx.test Hi 192.0.2.7 [192.0.2.7]"));
        assertEquals("250 2.1.0 <a@b.example>, sender OK - how exciting to get mail from you!", say(session, "MAIL FROM:<a@b.example>"));
        assertEquals("250 2.1.5 <c@example.org>, recipient ok", say(session, "RCPT TO:<c@example.org>"));
        assertEquals("354 go ahead", say(session, "DATA"));
        assertTrue(session.inData());
        for (String line : List.of("Subject: test", " folded", "", "..dot", "body", "")) {
            assertEquals(null, say(session, line));
        }
        assertEquals("250 2.0.0 Queued", say(session, "."));
        assertFalse(session.inData());
        String message = queued.get();
        assertTrue(message.startsWith("Received: from [192.0.2.7] (HELO client.example) (192.0.2.7)\r\n\tby mx.test (Postern) with ESMTP id t.1; "), message);
        assertTrue(message.endsWith("\r\nSubject: test\r\n folded\r\n\r\n.dot\r\nbody\r\n\r\n"), message);
        assertEquals(List.of("<a@b.example>"), resets.subList(resets.size() - 1, resets.size()));
    }

    @Test
    void resultsStoredAtDataPostAreInThatMessagesAuthenticationResultsUnderItsReceivedLine() {
        SmtpSession session = inData(session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.DATA_POST, "dkim-like", 10, (DataPostHook) ctx -> {
                    PluginConventions.storeAuthResults(ctx, "dkim=pass header.d=b.example");
                    return HookResult.declined();
                })));
        say(session, "Subject: signed");
        say(session, "");
        assertEquals("250 2.0.0 Queued", say(session, "."));
        List<String> fields = queued.get().lines().filter(line -> !line.startsWith("\t")).limit(2).toList();
        assertTrue(fields.get(0).startsWith("Received: "), queued.get());
        assertEquals("Authentication-Results: mx.test; auth=none; dkim=pass header.d=b.example", fields.get(1));
    }

    @Test
    void resultsStoredForATransactionStayOutOfTheNextOnesAuthenticationResults() {
        AtomicInteger messages = new AtomicInteger();
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.MAIL, "spf-like", 10, (MailHook) ctx -> {
                    PluginConventions.storeTransactionAuthResults(ctx, "spf=pass smtp.mailfrom=" + messages.incrementAndGet() + ".example");
                    return HookResult.declined();
                }));
        say(session, "EHLO client.example");
        for (int message = 1; message <= 2; message++) {
            say(session, "MAIL FROM:<a@b.example>");
            say(session, "RCPT TO:<c@example.org>");
            say(session, "DATA");
            say(session, "Subject: " + message);
            say(session, "");
            assertEquals("250 2.0.0 Queued", say(session, "."));
            assertEquals(List.of("Authentication-Results: mx.test; auth=none; spf=pass smtp.mailfrom=" + message + ".example"),
                    queued.get().lines().filter(line -> line.startsWith("Authentication-Results:")).toList());
        }
    }

    @Test
    void aMessageWithoutHeaderKeepsItsFirstLineInTheBody() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000);
        say(session, "HELO client.example");
        say(session, "MAIL FROM:<>");
        say(session, "RCPT TO:<c@example.org>");
        say(session, "DATA");
        say(session, "just text, no header");
        assertEquals("250 2.0.0 Queued", say(session, "."));
        assertTrue(queued.get().matches("Received: [^\r\n]*\r\n\t[^\r\n]* with SMTP id t\\.1; [^\r\n]*\r\n"
                + "Authentication-Results: mx.test; auth=none\r\n\r\njust text, no header\r\n"), queued.get());
    }

    @Test
    void oversizedMessagesAreRefusedAfterTheDotAndTheSessionGoesOn() {
        SmtpSession session = session(BareLineEndings.REJECT, 100);
        say(session, "EHLO client.example");
        say(session, "MAIL FROM:<a@b.example>");
        say(session, "RCPT TO:<c@example.org>");
        say(session, "DATA");
        for (int i = 0; i < 10; i++) {
            say(session, "0123456789012345678901234567890");
        }
        assertEquals("552 5.3.4 Message too big!", say(session, "."));
        assertEquals(null, queued.get());
        assertEquals("250 2.0.0 OK", say(session, "NOOP"));
    }

    @Test
    void aBareLineFeedInDataClosesTheSessionInRejectMode() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000);
        say(session, "EHLO client.example");
        say(session, "MAIL FROM:<a@b.example>");
        say(session, "RCPT TO:<c@example.org>");
        say(session, "DATA");
        session.onLine(bareLf("."));
        assertTrue(replies.get(replies.size() - 1).startsWith("554 5.6.11 "));
        assertTrue(transport.closed());
        assertTrue(session.closed());
        assertEquals(null, queued.get());
    }

    @Test
    void aDotEndedByABareLineFeedDoesNotEndDataInNormalizeMode() {
        SmtpSession session = session(BareLineEndings.NORMALIZE, 100_000);
        say(session, "EHLO client.example");
        say(session, "MAIL FROM:<a@b.example>");
        say(session, "RCPT TO:<c@example.org>");
        say(session, "DATA");
        say(session, "Subject: x");
        say(session, "");
        session.onLine(bareLf("."));
        session.onLine(bareLf("MAIL FROM:<evil@example.org>"));
        assertEquals(null, say(session, "."), "<LF>.<CRLF> is content: the CRLF before the dot is part of the terminator");
        assertTrue(session.inData());
        assertEquals("250 2.0.0 Queued", say(session, "."));
        assertTrue(queued.get().endsWith("\r\n\r\n.\r\nMAIL FROM:<evil@example.org>\r\n.\r\n"), queued.get());
    }

    @Test
    void recipientsAreLimitedAndUndecidedOnesGet450() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000);
        say(session, "EHLO client.example");
        say(session, "MAIL FROM:<a@b.example>");
        assertEquals("450 4.7.1 No plugin decided if relaying is allowed", say(session, "RCPT TO:<x@elsewhere.example>"));
        for (String user : List.of("c", "d", "e")) {
            assertTrue(say(session, "RCPT TO:<" + user + "@example.org>").startsWith("250"));
        }
        assertEquals("452 4.5.3 Too many recipients", say(session, "RCPT TO:<f@example.org>"));
    }

    @Test
    void aSecondEhloResetsTheTransaction() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000);
        say(session, "EHLO client.example");
        say(session, "MAIL FROM:<a@b.example>");
        assertTrue(say(session, "EHLO client.example").startsWith("250-"));
        assertEquals("503 5.5.1 Use MAIL before RCPT", say(session, "RCPT TO:<c@example.org>"));
    }

    @Test
    void anIdleTimeoutAnswers421AndCloses() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000);
        session.onTimeout();
        assertEquals("421 4.4.2 mx.test Timeout; closing connection", replies.get(replies.size() - 1));
        assertTrue(transport.closed());
    }

    @Test
    void quitAnswers221AndCloses() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000);
        assertEquals("221 2.0.0 mx.test closing connection. Have a wonderful day.", say(session, "QUIT"));
        assertTrue(transport.closed());
        assertEquals(null, say(session, "NOOP"));
    }

    private static final String SHUTTING_DOWN = "421 4.3.2 mx.test Service shutting down, closing connection";

    @Test
    void anIdleSessionIsToldAtOnceThatTheServerStops() {
        SmtpSession session = session(BareLineEndings.REJECT, 100_000);
        say(session, "EHLO client.example");
        session.shutDown();
        assertEquals(SHUTTING_DOWN, replies.get(replies.size() - 1));
        assertTrue(transport.closed());
    }

    @Test
    void aMessageBeingReceivedWhenTheServerStopsIsDroppedWithItsSpoolFile() throws Exception {
        SmtpSession session = inData(session(BareLineEndings.REJECT, 100_000));
        say(session, "Subject: long enough to be spooled to disk");
        say(session, "");
        for (int i = 0; i < 100; i++) {
            say(session, "x".repeat(1000));
        }
        try (var files = Files.list(spool)) {
            assertEquals(1, files.count(), "the body went to a spool file");
        }
        session.shutDown();
        assertEquals(SHUTTING_DOWN, replies.get(replies.size() - 1));
        session.onClosed();
        assertEquals(null, queued.get());
        try (var files = Files.list(spool)) {
            assertEquals(0, files.count(), "no spool file is left");
        }
    }

    @Test
    void aCommandBeingAnsweredWhenTheServerStopsGetsItsAnswerFirst() {
        CompletableFuture<HookResult> verdict = new CompletableFuture<>();
        SmtpSession session = session(BareLineEndings.REJECT, 100_000, hooks -> hooks
                .add(HookType.RCPT, "slow", 5, (RcptHook) ctx -> HookResult.later(verdict)));
        say(session, "EHLO client.example");
        say(session, "MAIL FROM:<a@b.example>");
        assertEquals(null, say(session, "RCPT TO:<c@example.org>"));
        session.shutDown();
        assertFalse(transport.closed());
        verdict.complete(HookResult.ok());
        assertEquals(List.of("250 2.1.5 <c@example.org>, recipient ok", SHUTTING_DOWN), replies.subList(replies.size() - 2, replies.size()));
        assertTrue(transport.closed());
    }
}
