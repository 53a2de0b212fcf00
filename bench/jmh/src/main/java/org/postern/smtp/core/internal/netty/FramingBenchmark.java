package org.postern.smtp.core.internal.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/** Splitting a read of pipelined commands, and of DATA lines, into SMTP lines. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FramingBenchmark {
    private EmbeddedChannel channel;
    private ByteBuf commands;
    private ByteBuf dataLines;

    @Setup
    public void setUp() {
        channel = new EmbeddedChannel(new SmtpFrameDecoder(65_536));
        commands = Unpooled.copiedBuffer("MAIL FROM:<sender@example.org> SIZE=1024\r\nRCPT TO:<one@example.org>\r\n"
                + "RCPT TO:<two@example.org>\r\nDATA\r\n", StandardCharsets.US_ASCII);
        dataLines = Unpooled.copiedBuffer(("x".repeat(76) + "\r\n").repeat(840), StandardCharsets.US_ASCII);
    }

    @TearDown
    public void tearDown() {
        channel.finishAndReleaseAll();
        commands.release();
        dataLines.release();
    }

    private int decode(ByteBuf input) {
        channel.writeInbound(input.retainedDuplicate());
        int lines = 0;
        while (channel.readInbound() != null) {
            lines++;
        }
        return lines;
    }

    /** Four pipelined envelope commands in one read. */
    @Benchmark
    public int pipelinedEnvelope() {
        return decode(commands);
    }

    /** 64 KB of 78-octet DATA lines in one read (840 lines). */
    @Benchmark
    public int dataChunk() {
        return decode(dataLines);
    }
}
