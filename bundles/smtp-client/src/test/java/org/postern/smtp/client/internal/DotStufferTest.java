package org.postern.smtp.client.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class DotStufferTest {
    /** The message in chunks of {@code size} octets, stuffed and finished. */
    private static String stuffed(String message, int size) {
        byte[] octets = message.getBytes(StandardCharsets.ISO_8859_1);
        DotStuffer stuffer = new DotStuffer();
        ByteBuf out = Unpooled.buffer();
        for (int from = 0; from < octets.length; from += size) {
            byte[] chunk = java.util.Arrays.copyOfRange(octets, from, Math.min(octets.length, from + size));
            stuffer.stuff(chunk, chunk.length, out);
        }
        stuffer.finish(out);
        try {
            return out.toString(StandardCharsets.ISO_8859_1);
        } finally {
            out.release();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 1000})
    void dotsAreDoubledAndLineEndsMadeCrlfWhereverTheChunksSplit(int chunk) {
        assertEquals("..a\r\nb\r\n..\r\n...c\r\nd\r\ne\r\n\r\nf\r\n", stuffed(".a\r\nb\r\n.\r\n..c\nd\re\r\r\nf", chunk));
    }

    @Test
    void anEmptyMessageStaysEmptyAndAFinalCrIsALineEnd() {
        assertEquals("", stuffed("", 10));
        assertEquals("x\r\n", stuffed("x\r", 10));
    }

    @Test
    void eightBitOctetsAreFound() throws Exception {
        assertTrue(DotStuffer.hasEightBitOctets(new ByteArrayInputStream("caf\u00e9".getBytes(StandardCharsets.UTF_8))));
        assertFalse(DotStuffer.hasEightBitOctets(new ByteArrayInputStream("cafe".getBytes(StandardCharsets.UTF_8))));
    }
}
