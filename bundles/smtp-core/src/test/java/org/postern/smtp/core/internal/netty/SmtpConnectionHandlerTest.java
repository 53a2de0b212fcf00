package org.postern.smtp.core.internal.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolException;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.ConnectHook;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.QueueHook;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.Session;
import org.postern.smtp.core.internal.dispatch.HookChains;
import org.postern.smtp.core.internal.dispatch.HookRunner;
import org.postern.smtp.core.internal.dispatch.Statistics;
import org.postern.smtp.core.internal.dispatch.TestHooks;
import org.postern.smtp.core.internal.protocol.ReverseLookup;
import org.postern.smtp.core.internal.protocol.SessionSettings.BareLineEndings;
import org.postern.smtp.core.internal.protocol.SessionSettings;

/** Framing, pipelining and back-pressure on an EmbeddedChannel. */
class SmtpConnectionHandlerTest {
    @TempDir
    Path spool;

    private SmtpServer server;
    private EmbeddedChannel channel;

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.finishAndReleaseAll();
            server.close();
        }
    }

    private EmbeddedChannel connect(HookChains chains) {
        return connect(chains, BareLineEndings.REJECT);
    }

    private EmbeddedChannel connect(HookChains chains, BareLineEndings bareLineEndings) {
        return connect(chains, bareLineEndings, false);
    }

    private EmbeddedChannel connect(HookChains chains, BareLineEndings bareLineEndings, boolean proxyProtocol) {
        SessionSettings settings = new SessionSettings("mx.test", "ESMTP ready", 10_000, 10, 512, 4096, 20,
                bareLineEndings, spool, 1024, SessionSettings.AuthPolicy.UNTHROTTLED);
        HookRunner runner = new HookRunner(Runnable::run, TestHooks.TIMER, Duration.ofSeconds(5), HookResult.denySoft("failed").withReplyCode(451), new Statistics());
        SmtpServer.Setup setup = new SmtpServer.Setup(settings, Map.of(), new SmtpServer.Limits(1000, 300, 180, 10, 10, 30,
                Duration.ofMinutes(10), 64, 5), runner, TestHooks.NO_SUPPORT, null, ReverseLookup.NONE, false, proxyProtocol);
        server = new SmtpServer(1, () -> chains, setup, new Statistics());
        channel = new EmbeddedChannel() {
            @Override
            protected SocketAddress remoteAddress0() {
                return new InetSocketAddress("192.0.2.9", 5555);
            }

            @Override
            protected SocketAddress localAddress0() {
                return new InetSocketAddress("127.0.0.1", 25);
            }
        };
        if (proxyProtocol) {
            channel.pipeline().addLast(SmtpServer.PROXY_DECODER, new HAProxyMessageDecoder());
        }
        channel.pipeline().addLast(new SmtpFrameDecoder(1000), new SmtpConnectionHandler(server, setup, "default"));
        channel.pipeline().fireChannelActive();
        return channel;
    }

    private void write(String text) {
        channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
        channel.runPendingTasks();
    }

    private String output() {
        StringBuilder text = new StringBuilder();
        ByteBuf buffer;
        while ((buffer = channel.readOutbound()) != null) {
            text.append(buffer.toString(StandardCharsets.ISO_8859_1));
            buffer.release();
        }
        return text.toString();
    }

    @Test
    void pipelinedCommandsInOneReadAreAnsweredInOrderInOneFlush() {
        connect(new TestHooks().add(HookType.RCPT, "ok", 10, (RcptHook) ctx -> HookResult.ok()).chains());
        assertEquals("220 mx.test ESMTP ready\r\n", output());
        write("EHLO a.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nNOOP\r\n");
        String[] lines = output().split("\r\n");
        assertEquals("250 ENHANCEDSTATUSCODES", lines[4]);
        assertTrue(lines[5].startsWith("250 2.1.0"));
        assertTrue(lines[6].startsWith("250 2.1.5"));
        assertEquals("250 2.0.0 OK", lines[7]);
    }

    @Test
    void inputSentBeforeTheGreetingIsSeenByAPluginThatWaits() {
        CompletableFuture<HookResult> held = new CompletableFuture<>();
        AtomicReference<Session> session = new AtomicReference<>();
        connect(new TestHooks().add(HookType.CONNECT, "earlytalker", 10, (ConnectHook) ctx -> {
            session.set(ctx.session());
            return HookResult.later(held);
        }).chains());
        assertEquals("", output());
        assertFalse(session.get().inputWaiting());
        write("EHLO ear");
        assertTrue(session.get().inputWaiting(), "part of a line");
        held.complete(HookResult.declined());
        channel.runPendingTasks();
        assertEquals("220 mx.test ESMTP ready\r\n", output());
        write("ly.example\r\n");
        assertTrue(output().startsWith("250-mx.test"));
        assertFalse(session.get().inputWaiting(), "the line was taken");
    }

    @Test
    void linesSplitAcrossReadsAreJoinedAndBareLfIsToldApart() {
        connect(HookChains.EMPTY);
        output();
        write("NO");
        assertEquals("", output());
        write("OP\r\nNOOP\n");
        assertEquals("250 2.0.0 OK\r\n", output());
        write("NOOP\r\n");
        assertEquals(BARE_LINE_ENDING, output());
    }

    private static final String BARE_LINE_ENDING =
            "500 5.5.2 Syntax error: a command line must end with CRLF and hold no bare CR, LF or NUL (RFC 5321 2.3.8)\r\n";

    @Test
    void aBareLfCrOrNulNeverMakesTwoCommandsOfOneLine() {
        connect(new TestHooks().add(HookType.RCPT, "ok", 10, (RcptHook) ctx -> HookResult.ok()).chains());
        output();
        write("EHLO a.example\r\n");
        output();
        write("MAIL FROM:<a@a.example>\nRCPT TO:<b@b.example>\r\nNOOP\r\n");
        assertEquals(BARE_LINE_ENDING + "250 2.0.0 OK\r\n", output());
        write("MAIL FROM:<a@a.example>\n\nRCPT TO:<b@b.example>\nQUIT\r\n");
        assertEquals(BARE_LINE_ENDING, output());
        write("MAIL FROM:<a@a.example>\rRCPT TO:<b@b.example>\r\n");
        assertEquals(BARE_LINE_ENDING, output());
        write("NOOP\0QUIT\r\n");
        assertEquals(BARE_LINE_ENDING, output());
        write(" NOOP\r\n\tNOOP\r\n");
        assertEquals("500 5.5.2 Syntax error: a command line must not start with white space\r\n".repeat(2), output());
        assertTrue(channel.isOpen());
        write("MAIL FROM:<a@a.example>\r\n");
        assertTrue(output().startsWith("250 2.1.0 "));
    }

    /** Published SMTP smuggling end-of-data variants (SEC Consult, 2023), each followed by a smuggled command. */
    private static final List<String> SMUGGLED_ENDINGS = List.of("\n.\n", "\n.\r\n", "\r.\r\n", "\r.\n", "\r\n.\n",
            "\r\n.\r", "\r\n.\r\r\n", "\r\n\0.\r\n", "\r\n.\n\r\n");

    @Test
    void onlyCrLfDotCrLfEndsDataInEitherMode() {
        for (BareLineEndings mode : BareLineEndings.values()) {
            for (String ending : SMUGGLED_ENDINGS) {
                List<String> queued = new ArrayList<>();
                connect(new TestHooks().add(HookType.RCPT, "ok", 10, (RcptHook) ctx -> HookResult.ok())
                        .add(HookType.QUEUE, "capture", 10, (QueueHook) ctx -> {
                            queued.add(TestHooks.message(ctx.transaction()));
                            return HookResult.ok();
                        }).chains(), mode);
                write("EHLO a.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nDATA\r\n");
                output();
                write("Subject: smuggle\r\n\r\nbody" + ending + "MAIL FROM:<evil@a.example>\r\nRCPT TO:<c@b.example>\r\n"
                        + "DATA\r\n\r\n.\r\n");
                String replies = output();
                String what = mode + " " + ending.replace("\r", "<CR>").replace("\n", "<LF>").replace("\0", "<NUL>") + ": " + replies;
                assertFalse(replies.contains("250 2.1.0"), what);
                boolean bare = ending.replace("\r\n", "").contains("\r") || ending.replace("\r\n", "").contains("\n");
                if (mode == BareLineEndings.REJECT && bare) {
                    assertTrue(replies.startsWith("554 5.6.11 "), what);
                    assertFalse(channel.isOpen(), what);
                    assertEquals(List.of(), queued, what);
                } else {
                    assertTrue(replies.matches("250 2\\.0\\.0 Queued\r\n"), what);
                    assertEquals(1, queued.size(), what);
                    assertTrue(queued.get(0).contains("MAIL FROM:<evil@a.example>\r\nRCPT TO:<c@b.example>\r\nDATA\r\n"), what);
                }
                channel.finishAndReleaseAll();
                server.close();
            }
        }
        channel = null;
    }

    @Test
    void linesPipelinedWhileAHookRunsAreSplitOnlyAsFastAsTheSessionTakesThem() {
        CompletableFuture<HookResult> verdict = new CompletableFuture<>();
        connect(new TestHooks().add(HookType.RCPT, "slow", 10, (RcptHook) ctx -> HookResult.later(verdict)).chains());
        output();
        int noops = 10_000;
        write("HELO a.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\n" + "NOOP\r\n".repeat(noops));
        SmtpConnectionHandler handler = channel.pipeline().get(SmtpConnectionHandler.class);
        assertEquals(SmtpConnectionHandler.MAX_PENDING_LINES, handler.pendingLines());
        verdict.complete(HookResult.ok());
        channel.runPendingTasks();
        String replies = output();
        assertEquals(noops, replies.split("250 2.0.0 OK\r\n", -1).length - 1);
        assertEquals(0, handler.pendingLines());
    }

    @Test
    void aTooLongLineIsDroppedAndReported() {
        connect(HookChains.EMPTY);
        output();
        write("NOOP " + "x".repeat(3000));
        write("y".repeat(3000) + "\r\nNOOP\r\n");
        assertEquals("500 5.5.2 Line too long\r\n250 2.0.0 OK\r\n", output());
    }

    @Test
    void readingStopsWhileAHookIsPendingAndResumesAfterwards() {
        CompletableFuture<HookResult> verdict = new CompletableFuture<>();
        connect(new TestHooks().add(HookType.RCPT, "slow", 10, (RcptHook) ctx -> HookResult.later(verdict)).chains());
        output();
        write("HELO a.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nNOOP\r\n");
        String answeredSoFar = output();
        assertTrue(answeredSoFar.startsWith("250 mx.test Hi 192.0.2.9"), answeredSoFar);
        assertEquals(2, answeredSoFar.split("\r\n").length, answeredSoFar);
        assertFalse(channel.config().isAutoRead());
        verdict.complete(HookResult.deny("no"));
        channel.runPendingTasks();
        assertEquals("550 5.7.1 no\r\n250 2.0.0 OK\r\n", output());
        assertTrue(channel.config().isAutoRead());
    }

    @Test
    void aClientThatDoesNotReadItsRepliesStopsBeingReadUntilItDoes() {
        connect(HookChains.EMPTY);
        output();
        channel.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        write("NOOP\r\nNOOP\r\nNOOP\r\n");
        assertEquals("", output());
        assertFalse(channel.config().isAutoRead());
        channel.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        channel.runPendingTasks();
        assertEquals("250 2.0.0 OK\r\n".repeat(3), output());
        assertTrue(channel.config().isAutoRead());
    }

    @Test
    void tooManySyntaxErrorsEndTheSession() {
        connect(HookChains.EMPTY);
        output();
        write("BAD\r\n".repeat(25));
        String[] replies = output().split("\r\n");
        assertEquals(21, replies.length);
        assertEquals("421 4.7.0 mx.test Too many errors, closing connection", replies[20]);
        assertFalse(channel.isOpen());
    }

    /** A proxied connection from 192.0.2.9 (the proxy), whose connect hook notes the client the session sees. */
    private AtomicReference<Session> proxied() {
        AtomicReference<Session> session = new AtomicReference<>();
        connect(new TestHooks().add(HookType.CONNECT, "client", 10, (ConnectHook) ctx -> {
            session.set(ctx.session());
            return HookResult.declined();
        }).chains(), BareLineEndings.REJECT, true);
        return session;
    }

    @Test
    void behindAProxyTheGreetingWaitsForTheHeaderAndTheSessionSeesTheClientItNames() {
        AtomicReference<Session> session = proxied();
        assertEquals("", output());
        write("PROXY TCP4 198.51.100.7 203.0.113.25 40000 25\r\nEHLO a.example\r\n");
        assertEquals(new InetSocketAddress("198.51.100.7", 40000), session.get().remoteAddress());
        assertEquals(new InetSocketAddress("203.0.113.25", 25), session.get().localAddress());
        String[] replies = output().split("\r\n");
        assertEquals("220 mx.test ESMTP ready", replies[0]);
        assertTrue(replies[1].startsWith("250-mx.test Hi "), replies[1]);
        assertTrue(replies[1].contains("[198.51.100.7]"), replies[1]);
        assertEquals(null, channel.pipeline().get(SmtpServer.PROXY_DECODER));
    }

    @Test
    void aVersionTwoHeaderNamesAnIpv6Client() {
        AtomicReference<Session> session = proxied();
        EmbeddedChannel encoder = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        encoder.writeOutbound(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY, HAProxyProxiedProtocol.TCP6,
                "2001:db8::7", "2001:db8::25", 40000, 25));
        channel.writeInbound((ByteBuf) encoder.readOutbound());
        channel.runPendingTasks();
        assertEquals(new InetSocketAddress("2001:db8::7", 40000), session.get().remoteAddress());
        assertEquals("220 mx.test ESMTP ready\r\n", output());
    }

    @Test
    void theProxysOwnHealthCheckIsTheProxysConnection() {
        AtomicReference<Session> session = proxied();
        EmbeddedChannel encoder = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        encoder.writeOutbound(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL, HAProxyProxiedProtocol.UNKNOWN,
                null, null, 0, 0));
        channel.writeInbound((ByteBuf) encoder.readOutbound());
        channel.runPendingTasks();
        assertEquals(new InetSocketAddress("192.0.2.9", 5555), session.get().remoteAddress());
        assertEquals("220 mx.test ESMTP ready\r\n", output());
    }

    @Test
    void aClientThatIsNotAProxyIsClosedWithoutAGreeting() {
        AtomicReference<Session> session = proxied();
        try {
            write("EHLO a.example\r\n");
        } catch (HAProxyProtocolException expected) {
            // EmbeddedChannel rethrows what the pipeline raised; the handler saw it first
        }
        assertEquals("", output());
        assertFalse(channel.isOpen());
        assertEquals(null, session.get());
    }

    @Test
    void aProxyThatSendsNoHeaderIsClosedAtProxyTimeout() {
        proxied();
        channel.advanceTimeBy(4, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertTrue(channel.isOpen());
        channel.advanceTimeBy(1, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertFalse(channel.isOpen());
        assertEquals("", output());
    }
}
