package org.postern.smtp.core.internal.protocol;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.QueueHook;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.core.internal.dispatch.HookChains;
import org.postern.smtp.core.internal.dispatch.HookRunner;
import org.postern.smtp.core.internal.dispatch.TestHooks;
import org.postern.smtp.core.internal.dispatch.RegisteredHook;
import org.postern.smtp.core.internal.dispatch.Statistics;

/**
 * A whole transaction through the state machine, lines already framed: envelope, then a message of
 * {@code size} octets in 78-octet lines (a quarter of them dot-stuffed) into the spool, header parsing,
 * Received line, and a queue plugin that reads the message back.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DataBenchmark {
    @Param({"1024", "102400"})
    public int size;

    private Path spool;
    private ScheduledThreadPoolExecutor timer;
    private SmtpSession session;
    private List<SmtpLine> lines;
    private RecordingTransport transport;

    @Setup
    public void setUp() throws IOException {
        spool = Files.createTempDirectory("postern-jmh-spool");
        timer = new ScheduledThreadPoolExecutor(1);
        timer.setRemoveOnCancelPolicy(true);
        HookChains chains = HookChains.of(List.of(
                new SimpleImmutableEntry<>(HookType.RCPT, new RegisteredHook("accept", (RcptHook) ctx -> HookResult.ok(), 1, 0, 1, null, null)),
                new SimpleImmutableEntry<>(HookType.QUEUE, new RegisteredHook("read-back", (QueueHook) ctx -> {
                    try (var in = ctx.transaction().message()) {
                        in.transferTo(java.io.OutputStream.nullOutputStream());
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    return HookResult.ok();
                }, 1, 0, 2, null, null))));
        transport = new RecordingTransport();
        SessionSettings settings = new SessionSettings("bench.postern", "ESMTP", 100L << 20, 100, 2048, 1 << 20, 20,
                SessionSettings.BareLineEndings.REJECT, spool, 64 * 1024, SessionSettings.AuthPolicy.UNTHROTTLED);
        HookRunner runner = new HookRunner(Runnable::run, timer, Duration.ofSeconds(30), HookResult.denySoft("failed"), new Statistics());
        session = new SmtpSession("bench.1", "default", new InetSocketAddress("192.0.2.1", 1), new InetSocketAddress("127.0.0.1", 25),
                settings, runner, () -> chains, TestHooks.NO_SUPPORT, ReverseLookup.NONE, transport, new Statistics(), new AuthFailureBudget(30, Duration.ofMinutes(10), 64));
        session.start(1, 1);
        session.onLine(SmtpLine.of("EHLO client.example"));
        StringBuilder message = new StringBuilder("From: a@example.org\r\nTo: b@example.org\r\nSubject: benchmark\r\n\r\n");
        int line = 0;
        while (message.length() < size) {
            message.append(line++ % 4 == 0 ? ".." : "x.").append("x".repeat(74)).append("\r\n");
        }
        lines = new java.util.ArrayList<>();
        lines.add(SmtpLine.of("MAIL FROM:<a@example.org> SIZE=" + size));
        lines.add(SmtpLine.of("RCPT TO:<b@example.org>"));
        lines.add(SmtpLine.of("DATA"));
        for (String text : message.toString().split("\r\n", -1)) {
            lines.add(new SmtpLine(text.getBytes(StandardCharsets.ISO_8859_1), true, false, false));
        }
        lines.set(lines.size() - 1, SmtpLine.of("."));
    }

    @TearDown
    public void tearDown() throws IOException {
        timer.shutdownNow();
        try (var files = Files.list(spool)) {
            if (files.findAny().isPresent()) {
                throw new IllegalStateException("spool files left behind");
            }
        }
        Files.delete(spool);
    }

    @Benchmark
    public int transaction() {
        for (SmtpLine line : lines) {
            session.onLine(line);
        }
        int replies = transport.replies().size();
        transport.replies().clear();
        return replies;
    }
}
