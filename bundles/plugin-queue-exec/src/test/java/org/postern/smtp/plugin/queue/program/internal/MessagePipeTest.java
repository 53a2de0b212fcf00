package org.postern.smtp.plugin.queue.program.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import org.junit.jupiter.api.Test;

class MessagePipeTest {
    private static String withLf(String text) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(MessagePipe.copyWithLf(new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1)), out));
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void crlfBecomesLfAndALoneCrStays() throws IOException {
        assertEquals("a\nb\rc\n\r", withLf("a\r\nb\rc\r\n\r"));
        assertEquals("\n\n", withLf("\r\n\r\n"));
        // a CRLF split across two buffers is still one line end
        String big = "x".repeat(64 * 1024 - 1) + "\r\ny";
        assertEquals("x".repeat(64 * 1024 - 1) + "\ny", withLf(big));
    }

    @Test
    void aReaderThatWentAwayIsReportedNotThrown() throws IOException {
        OutputStream broken = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("Broken pipe");
            }
        };
        assertFalse(MessagePipe.copyWithLf(new ByteArrayInputStream("a\r\n".getBytes(StandardCharsets.US_ASCII)), broken));
    }

    @Test
    void statusListsTakeSingleStatusesAndRanges() {
        BitSet statuses = MessagePipe.statuses(" 11-13, 65 77 ");
        assertEquals("{11, 12, 13, 65, 77}", statuses.toString());
        assertTrue(MessagePipe.statuses("").isEmpty());
        for (String wrong : new String[] {"0", "256", "40-11", "x", "1-", "-5"}) {
            assertThrows(IllegalArgumentException.class, () -> MessagePipe.statuses(wrong), wrong);
        }
    }
}
