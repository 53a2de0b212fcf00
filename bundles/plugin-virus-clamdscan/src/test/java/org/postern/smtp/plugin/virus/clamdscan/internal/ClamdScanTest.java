package org.postern.smtp.plugin.virus.clamdscan.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class ClamdScanTest {
    private static final String VERSION = "1: ClamAV 1.4.6/27480/Mon Dec  1 09:27:01 2025";
    private static final String HEAD = "Received: from client.example\r\nSubject: test\r\nX-Virus-Found: No\r\n";

    @TempDir
    Path folder;

    private final List<AutoCloseable> open = new ArrayList<>();
    private final TestContext ctx = new TestContext().withConfig("me", "mail.example");

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable closeable : open) {
            closeable.close();
        }
    }

    private FakeClamd clamd(FakeClamd.Script script) throws Exception {
        FakeClamd clamd = FakeClamd.tcp(script);
        open.add(clamd);
        return clamd;
    }

    private HookResult scan(FakeClamd clamd, Map<String, Object> config) throws Exception {
        Map<String, Object> all = new HashMap<>(Map.of("clamd_port", clamd.port(), "clamd_host", "127.0.0.1"));
        all.putAll(config);
        return scan(all);
    }

    private HookResult scan(Map<String, Object> config) {
        return HookResults.settled(plugin(config).onDataPost(ctx));
    }

    private ClamdScan plugin(Map<String, Object> config) {
        ClamdScan plugin = new ClamdScan(TestConfig.of(ClamdScan.Config.class, config));
        open.add(plugin::deactivate);
        return plugin;
    }

    private static FakeClamd.Script answering(String verdict) {
        return connection -> {
            connection.readRequest();
            connection.reply(VERSION, "2: " + verdict);
        };
    }

    private List<String> virusFields() {
        return ctx.transaction().header().orElseThrow().fields().stream()
                .filter(field -> field.name().startsWith("X-Virus"))
                .map(field -> field.name() + ": " + field.unfoldedValue()).toList();
    }

    @Test
    void aCleanMessageIsStreamedWholeInChunksAndGetsQpsmtpdsFieldsInPlaceOfTheSendersOwn() throws Exception {
        String message = HEAD + "\r\n" + "0123456789abcdef\r\n".repeat(20_000);
        ctx.transaction().message(message);
        FakeClamd clamd = clamd(answering("stream: OK"));

        HookResult answer = scan(clamd, Map.of());

        assertEquals(ReturnCode.DECLINED, answer.code());
        assertArrayEquals(message.getBytes(StandardCharsets.ISO_8859_1), clamd.messages.get(0));
        assertEquals(64 * 1024, clamd.largestChunk.get(), "a 360 KB message goes in 64 KiB chunks");
        assertEquals(List.of("X-Virus-Checked: by ClamAV 1.4.6 on mail.example", "X-Virus-Found: No"), virusFields());
        assertEquals("X-Virus-Checked", ctx.transaction().header().orElseThrow().fields().get(0).name(), "at the top, as qpsmtpd");
        assertEquals(List.of("INFO pass, clean"), ctx.logged());
    }

    @Test
    void aVirusIsRefusedWithItsNameAndCostsKarma() throws Exception {
        ctx.transaction().message(HEAD + "\r\nbody\r\n");
        HookResult answer = scan(clamd(answering("stream: Eicar-Test-Signature FOUND")), Map.of());
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(List.of("Virus found: Eicar-Test-Signature"), answer.message());
        assertEquals(-1, ctx.session().notes().get(SharedNotes.KARMA).orElseThrow());
        assertTrue(ctx.logged().contains("NOTICE fail, found virus Eicar-Test-Signature"), ctx.logged().toString());
    }

    @Test
    void rejectTypeTempDefersAVirus() throws Exception {
        ctx.transaction().message(HEAD + "\r\nbody\r\n");
        HookResult answer = scan(clamd(answering("stream: Eicar-Test-Signature FOUND")), Map.of("reject_type", "temp"));
        assertEquals(ReturnCode.DENYSOFT, answer.code());
        assertEquals(List.of("Virus found: Eicar-Test-Signature"), answer.message());
    }

    @Test
    void withDenyVirusesNoAVirusIsMarkedAndAccepted() throws Exception {
        ctx.transaction().message(HEAD + "\r\nbody\r\n");
        HookResult answer = scan(clamd(answering("stream: Eicar-Test-Signature FOUND")), Map.of("deny_viruses", "no"));
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertEquals(List.of("X-Virus-Details: Eicar-Test-Signature", "X-Virus-Found: Yes"), virusFields());
    }

    /** Each way clamd can fail, by what the fake does. */
    private FakeClamd failing(String how) throws Exception {
        return clamd(switch (how) {
            case "error reply" -> answering("Can't allocate memory ERROR");
            case "no id" -> connection -> {
                connection.readRequest();
                connection.reply("UNKNOWN COMMAND");
            };
            case "closed without verdict" -> connection -> {
                connection.readRequest();
                connection.reply(VERSION);
            };
            case "silent" -> FakeClamd.Connection::awaitClose;
            default -> throw new IllegalArgumentException(how);
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"error reply", "no id", "closed without verdict", "silent", "not listening"})
    void everyFailureOfClamdDefersWithDeferOnError(String how) throws Exception {
        ctx.transaction().message(HEAD + "\r\nbody\r\n");
        Map<String, Object> config = new HashMap<>(Map.of("defer_on_error", "yes", "timeout.ms", 500));
        HookResult answer = how.equals("not listening") ? scan(withNothingListening(config)) : scan(failing(how), config);
        assertEquals(ReturnCode.DENYSOFT, answer.code());
        assertEquals(451, answer.replyCode().orElseThrow());
        assertEquals("4.3.0", answer.enhancedStatus().orElseThrow());
        assertEquals(List.of("Unable to scan for viruses"), answer.message());
        assertTrue(ctx.logged().get(0).startsWith("ERROR scan failed, clamd at 127.0.0.1:"), ctx.logged().toString());
        assertTrue(ctx.logged().get(0).endsWith("; deferred"), ctx.logged().toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"error reply", "no id", "closed without verdict", "silent", "not listening"})
    void everyFailureOfClamdPassesMarkedUnknownByDefault(String how) throws Exception {
        ctx.transaction().message(HEAD + "\r\nbody\r\n");
        Map<String, Object> config = new HashMap<>(Map.of("timeout.ms", 500));
        HookResult answer = how.equals("not listening") ? scan(withNothingListening(config)) : scan(failing(how), config);
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertEquals(List.of("X-Virus-Details: not scanned, clamd failed", "X-Virus-Found: Unknown"), virusFields());
        assertTrue(ctx.logged().get(0).endsWith("; accepted unscanned"), ctx.logged().toString());
    }

    private static Map<String, Object> withNothingListening(Map<String, Object> config) throws Exception {
        Map<String, Object> all = new HashMap<>(config);
        try (ServerSocket taken = new ServerSocket(0)) {
            all.put("clamd_port", taken.getLocalPort());
        }
        all.put("clamd_host", "127.0.0.1");
        return all;
    }

    @Test
    void aSilentClamdIsGivenUpAtTheTimeout() throws Exception {
        ctx.transaction().message(HEAD + "\r\nbody\r\n");
        long started = System.nanoTime();
        scan(failing("silent"), Map.of("timeout.ms", 700));
        long tookMillis = (System.nanoTime() - started) / 1_000_000;
        assertTrue(tookMillis >= 650 && tookMillis < 5000, "took " + tookMillis + " ms");
        assertTrue(ctx.logged().get(0).contains("clamd did not answer within 700 ms"), ctx.logged().toString());
    }

    @Test
    void overClamdsStreamMaxLengthTheMessagePassesUnscannedAndUnmarked() throws Exception {
        // 8 MB against a limit of 1 MB: clamd replies and closes with most of the message unread, resetting the writes
        ctx.transaction().message(HEAD + "\r\n" + "x".repeat(78).concat("\r\n").repeat(100_000));
        FakeClamd clamd = clamd(connection -> {
            connection.readStream(1 << 20);
            connection.reply(VERSION, "2: INSTREAM size limit exceeded. ERROR");
        });
        HookResult answer = scan(clamd, Map.of("max_size", 0));
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertEquals(List.of("X-Virus-Found: No"), virusFields(), ctx.logged().toString());
        assertTrue(ctx.logged().get(0).startsWith("WARN skip, over clamd's StreamMaxLength (8000"), ctx.logged().toString());
    }

    @Test
    void overMaxSizeANaughtyConnectionOrWithScanAllOffASinglePartMessageIsNotScanned() throws Exception {
        FakeClamd clamd = clamd(answering("stream: OK"));
        ctx.transaction().message(HEAD + "\r\n" + "x".repeat(2000) + "\r\n");
        long tooBig = ctx.transaction().size();
        assertEquals(ReturnCode.DECLINED, scan(clamd, Map.of("max_size", 1)).code());
        ctx.transaction().message(HEAD + "\r\nbody\r\n");
        assertEquals(ReturnCode.DECLINED, scan(clamd, Map.of("scan_all", "0")).code());
        ctx.session().notes().put(SharedNotes.NAUGHTY, "go away");
        assertEquals(ReturnCode.DECLINED, scan(clamd, Map.of()).code());
        assertEquals(0, clamd.connections.get());
        assertEquals(List.of("INFO skip, too big (" + tooBig + ")", "NOTICE skip, not multipart", "INFO skip, naughty"), ctx.logged());
    }

    @Test
    void withScanAllOffAMultipartMessageIsScanned() throws Exception {
        ctx.transaction().message("Content-Type: multipart/mixed;\r\n boundary=\"b1\"\r\n\r\n--b1\r\n\r\nhi\r\n--b1--\r\n");
        FakeClamd clamd = clamd(answering("stream: OK"));
        assertEquals(ReturnCode.DECLINED, scan(clamd, Map.of("scan_all", "0")).code());
        assertEquals(1, clamd.messages.size());
    }

    @Test
    void overAUnixSocket() throws Exception {
        Path socket = folder.resolve("clamd.ctl");
        FakeClamd clamd = FakeClamd.unix(socket, answering("stream: Eicar-Test-Signature FOUND"));
        open.add(clamd);
        ctx.transaction().message(HEAD + "\r\nbody\r\n");
        HookResult answer = scan(Map.of("clamd_socket", socket.toString()));
        assertEquals(List.of("Virus found: Eicar-Test-Signature"), answer.message());
        assertEquals(1, clamd.messages.size());
    }

    @Test
    void aMissingUnixSocketIsAFailureOfClamd() {
        ctx.transaction().message(HEAD + "\r\nbody\r\n");
        HookResult answer = scan(Map.of("clamd_socket", folder.resolve("absent.ctl").toString(), "defer_on_error", "1"));
        assertEquals(ReturnCode.DENYSOFT, answer.code());
        assertTrue(ctx.logged().get(0).startsWith("ERROR scan failed, clamd at " + folder.resolve("absent.ctl")), ctx.logged().toString());
    }

    @Test
    void aClamdThatStopsReadingStopsTheReadingOfTheMessage() throws Exception {
        CountDownLatch released = new CountDownLatch(1);
        FakeClamd clamd = clamd(connection -> released.await());
        CountingStream message = new CountingStream(1L << 30);
        Clamd client = Clamd.tcp("127.0.0.1", clamd.port(), 1000, 1500);
        open.add(client);
        try {
            Throwable failure = client.scan(message).handle((answer, error) -> error).get();
            assertTrue(failure.getCause() instanceof TimeoutException, String.valueOf(failure));
            assertTrue(message.consumed() < 64L << 20, "read " + message.consumed() + " octets of 1 GiB while clamd read none");
            assertTrue(message.closed(), "the message is closed when the scan is given up");
        } finally {
            released.countDown();
        }
    }

    @Test
    void theProbeAsksClamdPingOverTcpAndTheUnixSocket() throws Exception {
        FakeClamd.Script pong = connection -> {
            connection.expect("zPING");
            connection.reply("PONG");
        };
        FakeClamd overTcp = clamd(pong);
        ClamdScan tcp = plugin(Map.of("clamd_port", overTcp.port(), "clamd_host", "127.0.0.1"));
        assertEquals("clamd 127.0.0.1:" + overTcp.port(), tcp.peer());
        assertEquals("PONG", tcp.probe(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS));

        Path socket = folder.resolve("clamd.ctl");
        open.add(FakeClamd.unix(socket, pong));
        ClamdScan unix = plugin(Map.of("clamd_socket", socket.toString()));
        assertEquals("clamd " + socket, unix.peer());
        assertEquals("PONG", unix.probe(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS));
    }

    @Test
    void theProbeFailsOnAnotherAnswerOnSilenceAndWhenClamdIsDown() throws Exception {
        FakeClamd confused = clamd(connection -> {
            connection.expect("zPING");
            connection.reply("UNKNOWN COMMAND");
        });
        ExecutionException failed = assertThrows(ExecutionException.class, () -> plugin(Map.of("clamd_port", confused.port(),
                "clamd_host", "127.0.0.1")).probe(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertEquals("clamd answered PING with: UNKNOWN COMMAND", failed.getCause().getMessage());

        FakeClamd silent = clamd(FakeClamd.Connection::awaitClose);
        long started = System.nanoTime();
        failed = assertThrows(ExecutionException.class, () -> plugin(Map.of("clamd_port", silent.port(), "clamd_host", "127.0.0.1"))
                .probe(Duration.ofMillis(300)).toCompletableFuture().get(10, TimeUnit.SECONDS));
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue(failed.getCause() instanceof TimeoutException && tookMillis >= 300 && tookMillis < 3000, failed.getCause() + " after " + tookMillis + " ms");

        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        failed = assertThrows(ExecutionException.class, () -> plugin(Map.of("clamd_port", closedPort, "clamd_host", "127.0.0.1"))
                .probe(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertInstanceOf(ConnectException.class, failed.getCause());
    }

    /** A message of {@code size} octets made up as it is read, counting what was read. */
    private static final class CountingStream extends InputStream {
        private final long size;
        private volatile long read;
        private volatile boolean closed;

        CountingStream(long size) {
            this.size = size;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0];
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            if (read >= size) {
                return -1;
            }
            int count = (int) Math.min(length, size - read);
            Arrays.fill(buffer, offset, offset + count, (byte) 'x');
            read += count;
            return count;
        }

        @Override
        public void close() {
            closed = true;
        }

        long consumed() {
            return read;
        }

        boolean closed() {
            return closed;
        }
    }
}
