package org.postern.smtp.plugin.spamassassin.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class SpamAssassinTest {
    private static final String MESSAGE = "From: a@example.org\r\nSubject: hello\r\n\r\nShall we have lunch on Friday?\r\n";
    private static final String STATUS = "Yes, score=14.2 required=5.0 tests=GTUBE,MISSING_DATE,\r\n\tMISSING_MID,NO_RELAYS autolearn=no "
            + "autolearn_force=no version=4.0.1";
    private static final String[] SPAM_FIELDS = {"X-Spam-Checker-Version: SpamAssassin 4.0.1 (2024-03-25) on spamd.example\r\n",
        "X-Spam-Flag: YES\r\n", "X-Spam-Level: **************\r\n", "X-Spam-Status: " + STATUS + "\r\n"};
    private static final String HAM = FakeSpamd.headersAnswer(false, 1.5, "X-Spam-Level: *\r\n",
            "X-Spam-Status: No, score=1.5 required=5.0 tests=MISSING_DATE autolearn=ham version=4.0.1\r\n");

    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable resource : opened) {
            resource.close();
        }
    }

    private FakeSpamd spamd(FakeSpamd.Behaviour behaviour) throws IOException {
        FakeSpamd spamd = FakeSpamd.tcp(behaviour);
        opened.add(spamd);
        return spamd;
    }

    private FakeSpamd spamdAnswering(double score) throws IOException {
        return spamd(FakeSpamd.answering(FakeSpamd.headersAnswer(score >= 5, score, SPAM_FIELDS)));
    }

    /** The plugin with these keys, talking to this spamd. */
    private SpamAssassin plugin(String socket, Object... keysAndValues) {
        Map<String, Object> config = new HashMap<>();
        config.put("spamd_socket", socket);
        for (int i = 0; i < keysAndValues.length; i += 2) {
            config.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        SpamAssassin plugin = new SpamAssassin(TestConfig.of(SpamAssassin.Config.class, config));
        opened.add(plugin::deactivate);
        return plugin;
    }

    private static HookResult scan(SpamAssassin plugin, TestContext ctx) {
        return HookResults.settled(plugin.onDataPost(ctx));
    }

    private static List<HeaderField> fields(TestContext ctx) {
        return ctx.transaction().header().orElseThrow().fields();
    }

    private static List<String> names(TestContext ctx) {
        return fields(ctx).stream().map(HeaderField::name).toList();
    }

    private static List<String> values(TestContext ctx, String name) {
        return ctx.transaction().header().orElseThrow().get(name);
    }

    private static Optional<?> note(TestContext ctx) {
        return ctx.transaction().notes().get(SpamAssassin.NOTE);
    }

    @Test
    void sendsTheEnvelopeSenderAndTheMessageForTheServersUser() throws Exception {
        FakeSpamd spamd = spamd(FakeSpamd.answering(HAM));
        scan(plugin(spamd.socket()), TestContext.forMessage(MESSAGE));
        assertEquals(List.of("HEADERS SPAMC/1.5\r\nUser: " + System.getProperty("user.name") + "\r\n\r\n"
                + "X-Envelope-From: <a@example.org>\r\n" + MESSAGE), spamd.requests);
    }

    @Test
    void spamAssassinsFieldsGoToTheTopInItsOrderAndTheNoteHasTheStatus() throws Exception {
        TestContext ctx = TestContext.forMessage(MESSAGE);
        HookResult result = scan(plugin(spamdAnswering(14.2).socket()), ctx);
        assertEquals(ReturnCode.DECLINED, result.code());
        assertEquals(List.of("X-Spam-Checker-Version", "X-Spam-Flag", "X-Spam-Level", "X-Spam-Status", "From", "Subject"), names(ctx));
        assertEquals(new HeaderField("X-Spam-Status", " " + STATUS), fields(ctx).get(3));
        assertEquals(Optional.of(Map.of("is_spam", "Yes", "score", "14.2", "required", "5.0", "tests", "GTUBE,MISSING_DATE,MISSING_MID,NO_RELAYS",
                "autolearn", "no", "autolearn_force", "no", "version", "4.0.1")), note(ctx));
        assertEquals(Optional.of(-1), ctx.session().notes().get(SharedNotes.KARMA));
        assertTrue(ctx.logged().contains("INFO fail, tolerated, Spam, 14.2, reject disabled, learn=no"), ctx.logged().toString());
    }

    @Test
    void aLongStatusIsFoldedIntoLinesOfAtMost78() throws Exception {
        StringBuilder tests = new StringBuilder("GTUBE");
        for (int i = 0; i < 100; i++) {
            tests.append(",POSTERN_RULE_").append(i);
        }
        FakeSpamd spamd = spamd(FakeSpamd.answering(FakeSpamd.headersAnswer(true, 1000, "X-Spam-Status: Yes, score=1000.0 required=5.0 tests="
                + tests + " autolearn=no version=4.0.1\r\n")));
        TestContext ctx = TestContext.forMessage(MESSAGE);
        scan(plugin(spamd.socket()), ctx);
        String written = "X-Spam-Status:" + fields(ctx).get(0).value();
        for (String line : written.split("\r\n")) {
            assertTrue(line.length() <= 78, line);
        }
        assertEquals(Optional.of(tests.toString()), note(ctx).map(note -> ((Map<?, ?>) note).get("tests")));
    }

    @ParameterizedTest
    @MethodSource("rejectTypes")
    void aScoreAtRejectIsRefusedAsRejectTypeSays(String rejectType, ReturnCode code) throws Exception {
        String socket = spamdAnswering(20).socket();
        HookResult refused = scan(plugin(socket, "reject", 20.0, "reject_type", rejectType), TestContext.forMessage(MESSAGE));
        assertEquals(code, refused.code());
        assertEquals(List.of("spam score exceeded threshold"), refused.message());
    }

    static Stream<Arguments> rejectTypes() {
        return Stream.of(Arguments.of("perm", ReturnCode.DENY), Arguments.of("temp", ReturnCode.DENYSOFT),
                Arguments.of("disconnect", ReturnCode.DENY_DISCONNECT), Arguments.of("temp_disconnect", ReturnCode.DENYSOFT_DISCONNECT),
                Arguments.of("nonsense", ReturnCode.DENY));
    }

    @Test
    void belowRejectOrWithoutRejectTheMessagePasses() throws Exception {
        assertEquals(ReturnCode.DECLINED, scan(plugin(spamdAnswering(19.9).socket(), "reject", 20.0), TestContext.forMessage(MESSAGE)).code());
        assertEquals(ReturnCode.DECLINED, scan(plugin(spamdAnswering(1000).socket()), TestContext.forMessage(MESSAGE)).code());
    }

    @Test
    void autolearnedHamRaisesKarma() throws Exception {
        TestContext ctx = TestContext.forMessage(MESSAGE);
        scan(plugin(spamd(FakeSpamd.answering(HAM)).socket(), "reject", 20.0), ctx);
        assertEquals(Optional.of(1), ctx.session().notes().get(SharedNotes.KARMA));
        assertTrue(ctx.logged().contains("INFO pass, Ham, 1.5 < 20.0, learn=ham"), ctx.logged().toString());
    }

    @Test
    void theSubjectIsMarkedWhenTheScoreIsOverTheThresholdAndSpamAssassinsRequiredScore() throws Exception {
        TestContext spam = TestContext.forMessage(MESSAGE);
        scan(plugin(spamdAnswering(14.2).socket(), "munge_subject_threshold", 10.0), spam);
        assertEquals(List.of("*** SPAM *** hello"), values(spam, "Subject"));

        TestContext own = TestContext.forMessage(MESSAGE);
        scan(plugin(spamdAnswering(14.2).socket(), "munge_subject_threshold", 10.0, "subject_prefix", "[spam]"), own);
        assertEquals(List.of("[spam] hello"), values(own, "Subject"));

        TestContext noSubject = TestContext.forMessage("From: a@example.org\r\n\r\nhi\r\n");
        scan(plugin(spamdAnswering(14.2).socket(), "munge_subject_threshold", 10.0), noSubject);
        assertEquals(List.of("*** SPAM ***"), values(noSubject, "Subject"));

        TestContext underThreshold = TestContext.forMessage(MESSAGE);
        scan(plugin(spamdAnswering(9.0).socket(), "munge_subject_threshold", 10.0), underThreshold);
        assertEquals(List.of("hello"), values(underThreshold, "Subject"));

        // over the threshold, but SpamAssassin does not call it spam (score 4.0, required 5.0)
        TestContext notSpam = TestContext.forMessage(MESSAGE);
        scan(plugin(spamdAnswering(4.0).socket(), "munge_subject_threshold", 3.0), notSpam);
        assertEquals(List.of("hello"), values(notSpam, "Subject"));
    }

    private static final String FORGED = "X-Spam-Status: No, score=-50.0 forged\r\nX-Spam-Flag: NO\r\nX-Spam-User: someone\r\n" + MESSAGE;

    @Test
    void fieldsTheMessageCameWithAreRenamedByDefault() throws Exception {
        TestContext ctx = TestContext.forMessage(FORGED);
        scan(plugin(spamdAnswering(14.2).socket()), ctx);
        assertEquals(List.of("X-Spam-Checker-Version", "X-Spam-Flag", "X-Spam-Level", "X-Spam-Status", "X-Old-Spam-Status",
                "X-Old-Spam-Flag", "X-Old-Spam-User", "From", "Subject"), names(ctx));
        assertEquals(List.of("No, score=-50.0 forged"), values(ctx, "X-Old-Spam-Status"));
        assertEquals(List.of("YES"), values(ctx, "X-Spam-Flag"));
    }

    @Test
    void fieldsTheMessageCameWithAreDroppedOrKept() throws Exception {
        TestContext dropped = TestContext.forMessage(FORGED);
        scan(plugin(spamdAnswering(14.2).socket(), "leave_old_headers", "drop"), dropped);
        assertEquals(List.of("X-Spam-Checker-Version", "X-Spam-Flag", "X-Spam-Level", "X-Spam-Status", "From", "Subject"), names(dropped));

        TestContext kept = TestContext.forMessage(FORGED);
        scan(plugin(spamdAnswering(14.2).socket(), "leave_old_headers", "keep"), kept);
        assertEquals(List.of("X-Spam-Checker-Version", "X-Spam-Flag", "X-Spam-Level", "X-Spam-Status", "X-Spam-Status", "X-Spam-Flag",
                "X-Spam-User", "From", "Subject"), names(kept));
    }

    @Test
    void headersNoneAddsNothingButTheNoteAndRejectStillWorks() throws Exception {
        TestContext ctx = TestContext.forMessage(FORGED);
        HookResult result = scan(plugin(spamdAnswering(14.2).socket(), "headers", "none", "reject", 10.0, "munge_subject_threshold", 5.0), ctx);
        assertEquals(ReturnCode.DENY, result.code());
        assertEquals(List.of("X-Spam-Status", "X-Spam-Flag", "X-Spam-User", "From", "Subject"), names(ctx));
        assertEquals(List.of("hello"), values(ctx, "Subject"));
        assertEquals(Optional.of("14.2"), note(ctx).map(note -> ((Map<?, ?>) note).get("score")));
    }

    @Test
    void withVpopmailAMessageForOneRecipientIsScoredForThatRecipient() throws Exception {
        FakeSpamd spamd = spamd(FakeSpamd.answering(HAM));
        TestContext ctx = TestContext.forMessage(MESSAGE, "<Alice@Example.ORG>");
        scan(plugin(spamd.socket(), "spamd_user", "vpopmail"), ctx);
        assertTrue(spamd.requests.get(0).startsWith("HEADERS SPAMC/1.5\r\nUser: Alice@Example.ORG\r\n\r\n"), spamd.requests.get(0));
        assertEquals(List.of(), values(ctx, "X-Spam-User"));
    }

    @Test
    void aMessageForSeveralRecipientsIsScoredForTheDefaultUserAndSaysSo() throws Exception {
        FakeSpamd spamd = spamd(FakeSpamd.answering(HAM));
        TestContext ctx = TestContext.forMessage(MESSAGE, "<alice@example.org>", "<bob@example.org>");
        scan(plugin(spamd.socket(), "spamd_user", "vpopmail"), ctx);
        assertTrue(spamd.requests.get(0).startsWith("HEADERS SPAMC/1.5\r\nUser: vpopmail\r\n\r\n"), spamd.requests.get(0));
        assertEquals(List.of("X-Spam-Level", "X-Spam-Status", "X-Spam-User", "From", "Subject"), names(ctx));
        assertEquals(List.of("vpopmail, 2 recipients"), values(ctx, "X-Spam-User"));

        TestContext named = TestContext.forMessage(MESSAGE, "<alice@example.org>", "<bob@example.org>", "<carol@example.org>");
        scan(plugin(spamd.socket(), "spamd_user", "filter"), named);
        assertEquals(List.of("filter, 3 recipients"), values(named, "X-Spam-User"));
    }

    @Test
    void relayClientsAreNotScannedUnlessRelayclientIsScan() throws Exception {
        FakeSpamd spamd = spamd(FakeSpamd.answering(HAM));
        TestContext skipped = TestContext.forMessage(MESSAGE);
        skipped.session().authenticated("alice");
        assertEquals(ReturnCode.DECLINED, scan(plugin(spamd.socket()), skipped).code());
        assertEquals(List.of(), spamd.requests);
        assertTrue(skipped.logged().contains("INFO skip, relay client"), skipped.logged().toString());

        TestContext scanned = TestContext.forMessage(MESSAGE);
        scanned.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        scan(plugin(spamd.socket(), "relayclient", "scan"), scanned);
        assertEquals(1, spamd.requests.size());
    }

    @Test
    void messagesOverMaxSizeAreNotScanned() throws Exception {
        FakeSpamd spamd = spamd(FakeSpamd.answering(HAM));
        TestContext ctx = TestContext.forMessage(MESSAGE);
        assertEquals(ReturnCode.DECLINED, scan(plugin(spamd.socket(), "max.size", 20), ctx).code());
        assertEquals(List.of(), spamd.requests);
        assertTrue(ctx.logged().contains("INFO skip, too large (" + MESSAGE.length() + ")"), ctx.logged().toString());
    }

    @Test
    void spamdOnAUnixDomainSocket() throws Exception {
        FakeSpamd spamd = FakeSpamd.unix(FakeSpamd.answering(FakeSpamd.headersAnswer(true, 14.2, SPAM_FIELDS)));
        opened.add(spamd);
        TestContext ctx = TestContext.forMessage(MESSAGE);
        assertEquals(ReturnCode.DENY, scan(plugin(spamd.socket(), "reject", 10.0), ctx).code());
        assertTrue(spamd.requests.get(0).endsWith("\r\n\r\nX-Envelope-From: <a@example.org>\r\n" + MESSAGE), spamd.requests.get(0));
    }

    /** Every way spamd can fail, each with what the log says about it. */
    enum Failure {
        UNREACHABLE("Connection refused"),
        CONNECT_TIMEOUT("connection timed out"),
        READ_TIMEOUT("spamd did not answer within 500 ms"),
        TEMPFAIL("spamd answered SPAMD/1.1 75 EX_TEMPFAIL"),
        MALFORMED("not a spamd answer: HELLO there"),
        NO_SPAM_LINE("spamd's answer has no Spam line"),
        CUT_SHORT("its Content-length says 5000"),
        TOO_LARGE("spamd's answer is larger than 66536 octets"),
        CLOSED("spamd closed the connection without an answer");

        final String logged;

        Failure(String logged) {
            this.logged = logged;
        }
    }

    /** spamd_socket for a spamd that fails this way. */
    private String failing(Failure failure) throws Exception {
        return switch (failure) {
            case UNREACHABLE -> {
                try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                    yield "127.0.0.1:" + closed.getLocalPort();
                }
            }
            case CONNECT_TIMEOUT -> unaccepting();
            case READ_TIMEOUT -> spamd(FakeSpamd.silent()).socket();
            case TEMPFAIL -> spamd(FakeSpamd.answering("SPAMD/1.1 75 EX_TEMPFAIL\r\n")).socket();
            case MALFORMED -> spamd(FakeSpamd.answering("HELLO there\r\n\r\n")).socket();
            case NO_SPAM_LINE -> spamd(FakeSpamd.answering("SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n")).socket();
            case CUT_SHORT -> spamd(FakeSpamd.answering(FakeSpamd.headersAnswer(true, 7, SPAM_FIELDS)
                    .replaceFirst("Content-length: \\d+", "Content-length: 5000"))).socket();
            case TOO_LARGE -> spamd(FakeSpamd.answering("SPAMD/1.1 0 EX_OK\r\n" + "x".repeat(70_000))).socket();
            case CLOSED -> spamd((client, spamd) -> FakeSpamd.readAll(client)).socket();
        };
    }

    /**
     * A loopback port whose listen queue is full: the kernel drops further connection requests, so connecting to it
     * takes until the connect timeout.
     */
    private String unaccepting() throws IOException {
        ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        opened.add(server);
        for (int i = 0; i < 10; i++) {
            Socket filler = new Socket();
            opened.add(filler);
            try {
                filler.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 200);
            } catch (SocketTimeoutException full) {
                return "127.0.0.1:" + server.getLocalPort();
            }
        }
        throw new IllegalStateException("the listen queue of port " + server.getLocalPort() + " did not fill up");
    }

    @ParameterizedTest
    @EnumSource(Failure.class)
    void everyFailureOfSpamdLetsTheMessagePassUnscannedByDefault(Failure failure) throws Exception {
        TestContext ctx = TestContext.forMessage(FORGED);
        HookResult result = scan(plugin(failing(failure), "reject", 5.0, "max.size", 1000, "connect.timeout.ms", 300, "timeout.ms", 500), ctx);
        assertEquals(ReturnCode.DECLINED, result.code());
        assertEquals(List.of("X-Spam-Status", "X-Spam-Flag", "X-Spam-User", "From", "Subject"), names(ctx));
        assertEquals(Optional.empty(), note(ctx));
        String warning = ctx.logged().stream().filter(line -> line.startsWith("WARN spamd at ")).findFirst().orElse("none");
        assertTrue(warning.contains(failure.logged) && warning.endsWith("; passed unscanned"), warning);
    }

    @ParameterizedTest
    @EnumSource(Failure.class)
    void everyFailureOfSpamdDefersTheMessageWithSpamdDownDefer(Failure failure) throws Exception {
        TestContext ctx = TestContext.forMessage(MESSAGE);
        HookResult result = scan(plugin(failing(failure), "spamd_down", "defer", "max.size", 1000, "connect.timeout.ms", 300,
                "timeout.ms", 500), ctx);
        assertEquals(ReturnCode.DENYSOFT, result.code());
        assertEquals(Optional.of(451), result.replyCode());
        assertEquals(Optional.of("4.3.0"), result.enhancedStatus());
        assertTrue(ctx.logged().stream().anyMatch(line -> line.startsWith("WARN") && line.endsWith("; deferred")), ctx.logged().toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "pass"})
    void aPolicyOtherThanDeferPasses(String policy) throws Exception {
        HookResult result = scan(plugin(failing(Failure.TEMPFAIL), "spamd_down", policy), TestContext.forMessage(MESSAGE));
        assertEquals(ReturnCode.DECLINED, result.code());
    }

    @Test
    void timeoutsAreShortenedToFitInTheHookTimeout() throws Exception {
        SpamAssassin plugin = plugin(failing(Failure.READ_TIMEOUT), "timeout.ms", 60_000, "postern.hook.timeout", 2, "spamd_down", "defer");
        long started = System.nanoTime();
        HookResult result = scan(plugin, TestContext.forMessage(MESSAGE));
        long tookMillis = (System.nanoTime() - started) / 1_000_000;
        assertEquals(ReturnCode.DENYSOFT, result.code());
        assertTrue(tookMillis < 1900, tookMillis + " ms");
    }
}
