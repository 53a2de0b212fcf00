package org.postern.smtp.plugin.virus.clamdscan.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class InstreamRequestTest {
    /** Each piece the request gives, as text with the chunk lengths written as [n]. */
    private static List<String> pieces(InstreamRequest request) throws IOException {
        List<String> pieces = new ArrayList<>();
        ByteBuf piece;
        while ((piece = request.readChunk(ByteBufAllocator.DEFAULT)) != null) {
            StringBuilder text = new StringBuilder();
            if (pieces.size() > 0 && !request.isEndOfInput()) {
                text.append('[').append(piece.readInt()).append(']');
            }
            text.append(piece.toString(StandardCharsets.ISO_8859_1).replace('\0', '|'));
            piece.release();
            pieces.add(text.toString());
        }
        return pieces;
    }

    @Test
    void aSessionAsksForTheVersionThenStreamsTheMessageInChunksEachWithItsLength() throws IOException {
        InstreamRequest request = new InstreamRequest(new ByteArrayInputStream("Subject: hi\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII)), 10);
        assertFalse(request.isEndOfInput());
        assertEquals(List.of("zIDSESSION|zVERSION|zINSTREAM|", "[10]Subject: h", "[10]i\r\n\r\nhello", "[2]\r\n", "||||zEND|"),
                pieces(request));
        assertTrue(request.isEndOfInput());
        assertEquals(22, request.progress());
        assertNull(request.readChunk(ByteBufAllocator.DEFAULT));
    }

    @Test
    void anEmptyMessageIsAnEmptyStream() throws IOException {
        assertEquals(List.of("zIDSESSION|zVERSION|zINSTREAM|", "||||zEND|"),
                pieces(new InstreamRequest(new ByteArrayInputStream(new byte[0]), 10)));
    }

    @Test
    void closingTheRequestClosesTheMessage() throws IOException {
        boolean[] closed = {false};
        InstreamRequest request = new InstreamRequest(new ByteArrayInputStream(new byte[5]) {
            @Override
            public void close() {
                closed[0] = true;
            }
        }, 10);
        request.close();
        assertTrue(closed[0]);
    }
}
