package org.postern.smtp.plugin.ident.p0f.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class IdentP0fTest {
    private static final String CLIENT = "198.51.100.7";

    @TempDir
    Path folder;

    private final List<AutoCloseable> open = new ArrayList<>();
    private final TestContext ctx = new TestContext();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable closeable : open) {
            closeable.close();
        }
    }

    private Path socket() {
        return folder.resolve("p0f.sock");
    }

    private FakeP0f p0f(FakeP0f.Script script) throws Exception {
        FakeP0f p0f = new FakeP0f(socket(), script);
        open.add(p0f);
        return p0f;
    }

    private IdentP0f plugin(Map<String, Object> config) {
        Map<String, Object> all = new HashMap<>(Map.of("p0f_socket", socket().toString()));
        all.putAll(config);
        IdentP0f plugin = new IdentP0f(TestConfig.of(IdentP0f.Config.class, all));
        open.add(plugin::deactivate);
        return plugin;
    }

    private HookResult connect(Map<String, Object> config) {
        ctx.session().remote(CLIENT, 40000);
        return HookResults.settled(plugin(config).onConnect(ctx));
    }

    /** An answer of p0f's in this host's byte order: magic, status, and from octet 36 on distance, quality and texts. */
    private static byte[] answer(int magic, int status, String osName, String osFlavor) {
        ByteBuffer answer = ByteBuffer.allocate(P0fApi.ANSWER_LENGTH).order(ByteOrder.nativeOrder());
        answer.putInt(magic).putInt(status).putInt(1796980830).putInt(1796980832).putInt(1).putInt(0).putInt(0).putInt(0).putInt(0);
        answer.putShort((short) 0).put((byte) 0).put((byte) 2);
        answer.put(osName.getBytes()).position(40 + 32).put(osFlavor.getBytes());
        return answer.array();
    }

    private static final byte[] LINUX = answer(P0fApi.ANSWER_MAGIC, P0fApi.STATUS_OK, "Linux", "2.2.x-3.x");
    private static final byte[] NO_MATCH = answer(P0fApi.ANSWER_MAGIC, P0fApi.STATUS_NO_MATCH, "", "");

    @Test
    void aFingerprintBecomesTheP0fNoteAndQpsmtpdsLogLine() throws Exception {
        FakeP0f p0f = p0f(FakeP0f.answering(LINUX));

        HookResult result = connect(Map.of());

        assertEquals(ReturnCode.DECLINED, result.code());
        assertArrayEquals(P0fApi.query(InetAddress.getByName(CLIENT)), p0f.queries.get(0));
        Map<String, Object> note = ctx.session().notes().get(IdentP0f.P0F).orElseThrow();
        assertEquals(P0fApi.answer(LINUX).note(), note);
        assertEquals("Linux 2.2.x-3.x", note.get("genre"));
        assertEquals(List.of("DEBUG pass, query ok", "INFO Linux 2.2.x-3.x",
                "DEBUG 1345340930 16 1796980830 1796980832 1 0 0 0 0 0 0 2 Linux 2.2.x-3.x    "), ctx.logged());
        assertEquals(Optional.empty(), ctx.session().notes().get(SharedNotes.KARMA), "no smite_os, no karma");
    }

    @Test
    void anotherBundleReadsTheNoteAsAPlainMap() throws Exception {
        p0f(FakeP0f.answering(LINUX));

        connect(Map.of());

        @SuppressWarnings("rawtypes")
        Optional<Map> note = ctx.session().notes().get(NoteKey.of("p0f", Map.class));
        assertEquals(2L, note.orElseThrow().get("os_match_q"));
    }

    @Test
    void anOsMatchingSmiteOsCostsAPointOfKarmaWhateverItsCase() throws Exception {
        p0f(FakeP0f.answering(LINUX));

        connect(Map.of("smite_os", "linux 2\\.2"));

        assertEquals(Optional.of(-1), ctx.session().notes().get(SharedNotes.KARMA));
        assertEquals(List.of("DEBUG pass, query ok", "INFO karma -1 (-1)", "INFO Linux 2.2.x-3.x"), ctx.logged().subList(0, 3));
    }

    @Test
    void anOsNotMatchingSmiteOsKeepsItsKarma() throws Exception {
        p0f(FakeP0f.answering(LINUX));

        connect(Map.of("smite_os", "windows"));

        assertEquals(Optional.empty(), ctx.session().notes().get(SharedNotes.KARMA));
        assertTrue(ctx.session().notes().get(IdentP0f.P0F).isPresent());
    }

    @Test
    void anUnrecognisedOsHasNoGenreForSmiteOsToMatch() throws Exception {
        p0f(FakeP0f.answering(answer(P0fApi.ANSWER_MAGIC, P0fApi.STATUS_OK, "", "")));

        connect(Map.of("smite_os", ".*"));

        assertEquals(Optional.empty(), ctx.session().notes().get(SharedNotes.KARMA));
        assertEquals(null, ctx.session().notes().get(IdentP0f.P0F).orElseThrow().get("genre"));
    }

    @Test
    void aHostP0fHasNotSeenIsAskedAboutOnceMoreThenSkippedWithoutANote() throws Exception {
        FakeP0f p0f = p0f(FakeP0f.answering(NO_MATCH));

        assertEquals(ReturnCode.DECLINED, connect(Map.of()).code());

        assertEquals(List.of("DEBUG no match yet, asking again in 100 ms", "INFO skip, no match"), ctx.logged());
        assertEquals(2, p0f.queries.size());
        assertEquals(Optional.empty(), ctx.session().notes().get(IdentP0f.P0F));
    }

    @Test
    void aSynP0fReadsLateIsFoundWhenAskedAgain() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        p0f(connection -> connection.write(ByteBuffer.wrap(asked.incrementAndGet() == 1 ? NO_MATCH : LINUX)));

        long start = System.nanoTime();
        connect(Map.of("no.match.retry.ms", 200));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertEquals("Linux 2.2.x-3.x", ctx.session().notes().get(IdentP0f.P0F).orElseThrow().get("genre"));
        assertTrue(millis >= 200 && millis < 2000, "answered after " + millis + " ms");
    }

    @Test
    void withoutRetryOrWithoutTimeLeftForOneNoMatchIsTheAnswer() throws Exception {
        FakeP0f p0f = p0f(FakeP0f.answering(NO_MATCH));

        connect(Map.of("no.match.retry.ms", 0));
        connect(Map.of("no.match.retry.ms", 100, "timeout.ms", 100));

        assertEquals(List.of("INFO skip, no match", "INFO skip, no match"), ctx.logged());
        assertEquals(2, p0f.queries.size());
    }

    @Test
    void aBadQueryAnAnswerWithAnotherMagicAndAnUnknownStatusAreLoggedAsErrors() throws Exception {
        Map<byte[], String> answers = Map.of(
                answer(P0fApi.ANSWER_MAGIC, P0fApi.STATUS_BAD_QUERY, "", ""), "ERROR skip, bad query",
                answer(P0fApi.QUERY_MAGIC, P0fApi.STATUS_OK, "Linux", ""), "ERROR skip, Bad response magic.",
                answer(P0fApi.ANSWER_MAGIC, 0x30, "Linux", ""), "ERROR skip, unknown status 48");
        for (Map.Entry<byte[], String> answer : answers.entrySet()) {
            ctx.logged().clear();
            try (FakeP0f p0f = new FakeP0f(socket(), FakeP0f.answering(answer.getKey()))) {
                assertEquals(ReturnCode.DECLINED, connect(Map.of()).code());
            }
            java.nio.file.Files.delete(socket());
            assertEquals(List.of(answer.getValue()), ctx.logged());
            assertEquals(Optional.empty(), ctx.session().notes().get(IdentP0f.P0F));
        }
    }

    @Test
    void anAnswerArrivingInPiecesIsReadWhole() throws Exception {
        p0f(connection -> {
            for (int from = 0; from < LINUX.length; from += 50) {
                connection.write(ByteBuffer.wrap(LINUX, from, Math.min(50, LINUX.length - from)));
                Thread.sleep(20);
            }
        });

        connect(Map.of());

        assertEquals("Linux 2.2.x-3.x", ctx.session().notes().get(IdentP0f.P0F).orElseThrow().get("genre"));
    }

    @Test
    void withP0fDownTheClientIsWelcomedAtOnceAndTheFailureLogged() {
        long start = System.nanoTime();

        assertEquals(ReturnCode.DECLINED, connect(Map.of()).code());

        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 1000);
        assertEquals(1, ctx.logged().size(), ctx.logged().toString());
        assertTrue(ctx.logged().get(0).startsWith("ERROR skip, could not open socket: "), ctx.logged().toString());
        assertTrue(ctx.logged().get(0).contains(socket().toString()), ctx.logged().toString());
    }

    @Test
    void aSilentP0fHoldsTheClientForTheTimeoutAndNoThreadMeanwhile() throws Exception {
        p0f(connection -> Thread.sleep(10_000));
        IdentP0f plugin = plugin(Map.of("timeout.ms", 300));

        long start = System.nanoTime();
        HookResult pending = plugin.onConnect(ctx);
        long returned = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        HookResult result = HookResults.settled(pending);
        long settled = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertTrue(pending.pending().isPresent());
        assertTrue(returned < 200, "the hook returned after " + returned + " ms");
        assertEquals(ReturnCode.DECLINED, result.code());
        assertTrue(settled >= 300 && settled < 2000, "answered after " + settled + " ms");
        assertEquals(List.of("ERROR skip, p0f at " + socket() + " did not answer within 300 ms"), ctx.logged());
    }

    @Test
    void aP0fHangingUpHalfwayIsLogged() throws Exception {
        p0f(connection -> connection.write(ByteBuffer.wrap(LINUX, 0, 100)));

        assertEquals(ReturnCode.DECLINED, connect(Map.of()).code());

        assertEquals(List.of("ERROR skip, p0f at " + socket() + " closed the connection without answering"), ctx.logged());
    }

    @Test
    void theHealthCheckAsksP0fAboutLoopbackAndShowsTheStatus() throws Exception {
        FakeP0f p0f = p0f(FakeP0f.answering(NO_MATCH));
        IdentP0f plugin = plugin(Map.of());

        assertEquals("p0f " + socket(), plugin.peer());
        assertEquals("status 0x20", plugin.probe(Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertArrayEquals(P0fApi.query(InetAddress.getLoopbackAddress()), p0f.queries.get(0));
    }

    @Test
    void theHealthCheckFailsWithP0fDown() {
        IdentP0f plugin = plugin(Map.of());

        assertThrows(ExecutionException.class, () -> plugin.probe(Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS));
    }

    @Test
    void withoutASocketOrForP0f2ThePluginDoesNotStart() {
        assertThrows(IllegalArgumentException.class, () -> plugin(Map.of("p0f_socket", " ")));
        assertThrows(IllegalArgumentException.class, () -> plugin(Map.of("version", 2)));
        assertThrows(IllegalArgumentException.class, () -> plugin(Map.of("timeout.ms", 0)));
        assertThrows(IllegalArgumentException.class, () -> plugin(Map.of("no.match.retry.ms", -1)));
    }

    @Test
    void version3AndLocalIpAreAccepted() throws Exception {
        p0f(FakeP0f.answering(LINUX));

        connect(Map.of("version", 3, "local_ip", "208.75.177.101"));

        assertTrue(ctx.session().notes().get(IdentP0f.P0F).isPresent());
    }
}
