package org.postern.smtp.core.internal.protocol;

import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.postern.smtp.api.Address;

/** The built-in MAIL/RCPT parser and the RFC 5321 address parser. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ParsingBenchmark {
    private final String mailArguments = "FROM:<first.last+tag@mail.example.org> SIZE=102400 BODY=8BITMIME";
    private final String plainPath = "<first.last+tag@mail.example.org>";
    private final String quotedPath = "<\"first last\"@[192.0.2.1]>";

    @Benchmark
    public EnvelopeParser.Parsed mailCommand() {
        return EnvelopeParser.parseMail(mailArguments);
    }

    @Benchmark
    public Optional<Address> plainAddress() {
        return Address.parse(plainPath);
    }

    @Benchmark
    public Optional<Address> quotedAddressLiteral() {
        return Address.parse(quotedPath);
    }

    @Benchmark
    public String formatAddress() {
        return Address.parse(plainPath).orElseThrow().format();
    }
}
