package org.postern.smtp.plugin.rspamd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RspamdClientTest {
    private static final long MESSAGE = 64L << 20;

    /** 64 MiB of text made as it is read, counting what was read and telling whether it was closed. */
    private static final class GeneratedMessage extends InputStream {
        final AtomicLong read = new AtomicLong();
        final AtomicBoolean closed = new AtomicBoolean();

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0];
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            long left = MESSAGE - read.get();
            if (left <= 0) {
                return -1;
            }
            int count = (int) Math.min(length, left);
            for (int i = 0; i < count; i++) {
                buffer[offset + i] = (byte) ((read.get() + i) % 64 == 63 ? '\n' : 'x');
            }
            read.addAndGet(count);
            return count;
        }

        @Override
        public void close() {
            closed.set(true);
        }
    }

    @Test
    void theMessageIsReadOnlyAsFastAsRspamdTakesItInAndWhole() throws Exception {
        try (FakeRspamd rspamd = FakeRspamd.answering("{\"action\":\"no action\",\"score\":0}").holdBeforeReading(1500)) {
            RspamdClient client = new RspamdClient("127.0.0.1", rspamd.port(), Duration.ofSeconds(2), Duration.ofSeconds(20));
            try {
                GeneratedMessage message = new GeneratedMessage();
                var answer = client.check(Map.of("Rcpt", List.of("b@example.org")), message).toCompletableFuture();
                Thread.sleep(1000);
                // rspamd has read nothing yet: only what the socket buffers and the client's queue hold has been read
                assertTrue(message.read.get() < 16L << 20, message.read.get() + " octets read before rspamd read any");
                assertEquals("no action", answer.get(20, TimeUnit.SECONDS).action());
                assertEquals(MESSAGE, rspamd.bodyLength());
                assertTrue(message.closed.get());
            } finally {
                client.close();
            }
        }
    }
}
