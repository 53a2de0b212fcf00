package org.postern.smtp.core.internal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.QueueHook;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.core.internal.dispatch.HookChains;
import org.postern.smtp.core.internal.dispatch.HookRunner;
import org.postern.smtp.core.internal.dispatch.Statistics;
import org.postern.smtp.core.internal.dispatch.TestHooks;
import org.postern.smtp.core.internal.protocol.SessionSettings.BareLineEndings;

/**
 * A session fed any lines (commands, AUTH answers, message lines; with bare CRs and LFs, NULs, too-long lines):
 * it never fails internally (no 451 Internal error), every reply is a well-formed SMTP reply, and when the
 * connection ends no spool file is left behind. Small limits (64-octet
 * spool threshold, 3 recipients, a 2 KB message size) put every limit within the fuzzer's reach.
 */
class SessionFuzzTest {
    private static final Path SPOOL = spoolFolder();
    private static final HookChains CHAINS = new TestHooks()
            .add(HookType.RCPT, "accept", 10, (RcptHook) ctx -> HookResult.ok())
            .add(HookType.QUEUE, "accept", 10, (QueueHook) ctx -> HookResult.ok())
            .chains();

    private static Path spoolFolder() {
        try {
            return Files.createTempDirectory("postern-fuzz-spool");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "60s")
    void anyLinesGetWellFormedRepliesAndLeaveNoSpoolFile(FuzzedDataProvider data) throws IOException {
        BareLineEndings bareLineEndings = data.consumeBoolean() ? BareLineEndings.REJECT : BareLineEndings.NORMALIZE;
        SessionSettings settings = new SessionSettings("mx.test", "ESMTP ready", 2048, 3, 512, 1024, 20,
                bareLineEndings, SPOOL, 64, SessionSettings.AuthPolicy.UNTHROTTLED);
        HookRunner runner = new HookRunner(Runnable::run, TestHooks.TIMER, Duration.ofSeconds(5),
                HookResult.denySoft("failed").withReplyCode(451), new Statistics());
        RecordingTransport transport = new RecordingTransport();
        SmtpSession session = new SmtpSession("fuzz.1", "default", new InetSocketAddress("192.0.2.7", 4000),
                new InetSocketAddress("127.0.0.1", 25), settings, runner, () -> CHAINS, TestHooks.NO_SUPPORT,
                ReverseLookup.NONE, transport, new Statistics(), new AuthFailureBudget(30, Duration.ofMinutes(10), 64));
        session.start(1, 1);
        while (data.remainingBytes() > 0 && !session.closed()) {
            boolean tooLong = data.consumeProbabilityFloat() < 0.02f;
            boolean crlf = data.consumeProbabilityFloat() < 0.95f;
            byte[] bytes = data.consumeBoolean() ? command(data) : data.consumeBytes(data.consumeInt(0, 120));
            session.onLine(tooLong ? new SmtpLine(new byte[0], true, false, true) : SmtpLine.framed(bytes, crlf));
        }
        session.onClosed();
        for (String reply : transport.replies()) {
            assertTrue(reply.matches("(?s)[2-5][0-9][0-9][ -].*"), () -> "malformed reply: " + reply);
            assertFalse(reply.startsWith("451 4.3.0 Internal error"), () -> "internal error; replies: " + transport.replies());
        }
        try (Stream<Path> left = Files.list(SPOOL)) {
            assertEquals(0, left.count(), "spool files left behind");
        }
    }

    /** A command the session knows, with fuzzed arguments, so that the fuzzer gets past the greeting quickly. */
    private static byte[] command(FuzzedDataProvider data) {
        String verb = data.pickValue(new String[] {"EHLO a.example", "HELO a.example", "MAIL FROM:", "RCPT TO:", "DATA", "RSET",
            "NOOP", "QUIT", "AUTH PLAIN", "AUTH LOGIN", "AUTH CRAM-MD5", "VRFY", "HELP", "STARTTLS", ".", ""});
        return (verb + data.consumeString(60)).getBytes(StandardCharsets.UTF_8);
    }
}
