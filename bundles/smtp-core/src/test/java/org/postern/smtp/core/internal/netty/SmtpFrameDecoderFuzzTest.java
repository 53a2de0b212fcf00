package org.postern.smtp.core.internal.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.postern.smtp.core.internal.protocol.SmtpLine;

/**
 * The framer against the definition of a line, for any bytes in any split: each LF ends a line; a line longer than
 * the limit is reported as too long, whatever pieces it came in, and its bytes are not kept; a CR before the LF
 * makes it a CRLF line. Replay: {@code mvn test -pl bundles/smtp-core -Dtest=SmtpFrameDecoderFuzzTest}; fuzz:
 * the README's "Fuzzing".
 */
class SmtpFrameDecoderFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void linesAreSplitAsDefinedHoweverTheBytesArrive(FuzzedDataProvider data) {
        int maxLineLength = data.consumeInt(1, 64);
        List<Integer> pieces = new ArrayList<>();
        for (int i = data.consumeInt(0, 8); i > 0; i--) {
            pieces.add(data.consumeInt(1, 100));
        }
        byte[] input = data.consumeRemainingAsBytes();
        EmbeddedChannel channel = new EmbeddedChannel(new SmtpFrameDecoder(maxLineLength));
        int at = 0;
        for (int piece : pieces) {
            int end = Math.min(input.length, at + piece);
            channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(input, at, end)));
            at = end;
        }
        channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(input, at, input.length)));
        List<String> framed = new ArrayList<>();
        for (Object line = channel.readInbound(); line != null; line = channel.readInbound()) {
            framed.add(describe((SmtpLine) line));
        }
        assertEquals(expectedLines(input, maxLineLength), framed);
        channel.finishAndReleaseAll();
    }

    /** The lines by definition: split at LF; longer than the limit (a CR before the LF counts) is too long. */
    private static List<String> expectedLines(byte[] input, int maxLineLength) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < input.length; i++) {
            if (input[i] != '\n') {
                continue;
            }
            int length = i - start;
            if (length > maxLineLength + 1) {
                lines.add("too long");
            } else {
                boolean crlf = length > 0 && input[i - 1] == '\r';
                lines.add(describe(SmtpLine.framed(Arrays.copyOfRange(input, start, crlf ? i - 1 : i), crlf)));
            }
            start = i + 1;
        }
        return lines;
    }

    private static String describe(SmtpLine line) {
        return line.tooLong() ? "too long" : (line.crlf() ? "CRLF " : "LF ") + Arrays.toString(line.bytes());
    }
}
