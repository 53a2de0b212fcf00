package org.postern.smtp.plugin.earlytalker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

class EarlytalkerTest {
    private static final String REPLY = "Connecting host started transmitting before SMTP greeting";
    /** Declared as another plugin would, to read the note without importing this one. */
    private static final NoteKey<Boolean> EARLYTALKER = NoteKey.of("earlytalker", Boolean.class);

    private final TestContext ctx = new TestContext();

    /** The plugin with a short wait and the given options, by their configuration keys. */
    private static Earlytalker plugin(Map<String, Object> options) {
        Map<String, Object> config = new HashMap<>(Map.of("wait", 0.05));
        config.putAll(options);
        return new Earlytalker(TestConfig.of(Earlytalker.Config.class, config));
    }

    private HookResult earlyTalkerAtConnect(Earlytalker plugin) throws Exception {
        ctx.session().inputWaiting(true);
        return HookResults.settled(plugin.onConnect(ctx));
    }

    private boolean noted() {
        return ctx.session().notes().get(EARLYTALKER).orElse(false);
    }

    private Optional<Integer> karma() {
        return ctx.session().notes().get(SharedNotes.KARMA);
    }

    @Test
    void aClientThatWaitsForTheGreetingGetsItAfterTheWait() throws Exception {
        HookResult first = plugin(Map.of("wait", 0.5)).onConnect(ctx);
        CompletableFuture<HookResult> later = first.pending().orElseThrow().toCompletableFuture();
        assertFalse(later.isDone(), "the greeting is held back for the wait");
        assertEquals(ReturnCode.DECLINED, later.get(10, TimeUnit.SECONDS).code());
        assertFalse(noted());
        assertEquals(Optional.empty(), karma());
        assertTrue(ctx.logged().contains("INFO pass, not spontaneous"), ctx.logged().toString());
    }

    @Test
    void aClientThatTalksDuringTheWaitIsRefusedPermanentlyByDefault() throws Exception {
        HookResult first = plugin(Map.of("wait", 0.5)).onConnect(ctx);
        ctx.session().inputWaiting(true);
        HookResult refusal = HookResults.settled(first);
        assertEquals(ReturnCode.DENY, refusal.code());
        assertEquals(List.of(REPLY), refusal.message());
        assertTrue(noted());
        assertEquals(Optional.of(-1), karma());
        assertTrue(ctx.logged().contains("INFO fail, remote started talking before we said hello"), ctx.logged().toString());
    }

    @Test
    void aClientThatHasAlreadyTalkedIsRefusedWithoutWaiting() {
        ctx.session().inputWaiting(true);
        HookResult refusal = plugin(Map.of("wait", 30.0)).onConnect(ctx);
        assertTrue(refusal.pending().isEmpty());
        assertEquals(ReturnCode.DENY, refusal.code());
    }

    @Test
    void rejectTypeChoosesTheRefusal() throws Exception {
        assertEquals(ReturnCode.DENYSOFT, earlyTalkerAtConnect(plugin(Map.of("reject_type", "temp"))).code());
        assertEquals(ReturnCode.DENY_DISCONNECT, earlyTalkerAtConnect(plugin(Map.of("reject_type", "disconnect"))).code());
        assertEquals(ReturnCode.DENY, earlyTalkerAtConnect(plugin(Map.of("reject_type", "bogus"))).code());
    }

    @Test
    void rejectZeroOnlyNotesTheClientAndLowersItsKarma() throws Exception {
        Earlytalker plugin = plugin(Map.of("reject", "0"));
        assertEquals(ReturnCode.DECLINED, earlyTalkerAtConnect(plugin).code());
        assertTrue(noted());
        assertEquals(Optional.of(-1), karma());
        assertTrue(ctx.logged().contains("INFO fail, tolerated, remote started talking before we said hello"), ctx.logged().toString());
        assertEquals(ReturnCode.DECLINED, plugin.onMail(ctx.mail("<a@example.org>")).code(), "without defer-reject MAIL is not refused");
    }

    @Test
    void rejectNaughtyLeavesTheRefusalToTheNaughtyPlugin() throws Exception {
        assertEquals(ReturnCode.DECLINED, earlyTalkerAtConnect(plugin(Map.of("reject", "naughty"))).code());
        assertEquals(Optional.of(REPLY), ctx.session().notes().get(SharedNotes.NAUGHTY));
        assertEquals(Optional.of("perm"), ctx.session().notes().get(SharedNotes.NAUGHTY_REJECT_TYPE));
    }

    @Test
    void deferRejectGreetsTheEarlyTalkerAndRefusesItsMailAndRcptTemporarily() throws Exception {
        Earlytalker plugin = plugin(Map.of("defer-reject", "1"));
        assertEquals(ReturnCode.DECLINED, earlyTalkerAtConnect(plugin).code());
        assertTrue(noted());
        assertEquals(Optional.of(-1), karma());
        HookResult mail = plugin.onMail(ctx.mail("<a@example.org>"));
        assertEquals(ReturnCode.DENYSOFT, mail.code());
        assertEquals(List.of(REPLY), mail.message());
        assertEquals(ReturnCode.DENYSOFT, plugin.onRcpt(ctx.rcpt("<b@example.org>")).code());
        assertEquals(Optional.of(-3), karma(), "each refusal costs karma, as in qpsmtpd");
    }

    @Test
    void deferRejectKeepsAGivenRejectTypeAndReject() throws Exception {
        Earlytalker perm = plugin(Map.of("defer-reject", "yes", "reject_type", "perm"));
        earlyTalkerAtConnect(perm);
        assertEquals(ReturnCode.DENY, perm.onMail(ctx.mail("<a@example.org>")).code());
        Earlytalker tolerant = plugin(Map.of("defer-reject", "1", "reject", "0"));
        assertEquals(ReturnCode.DECLINED, tolerant.onMail(ctx.mail("<a@example.org>")).code());
    }

    @Test
    void deferRejectLetsAPoliteClientSendMail() throws Exception {
        Earlytalker plugin = plugin(Map.of("defer-reject", "1"));
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onConnect(ctx)).code());
        assertEquals(ReturnCode.DECLINED, plugin.onMail(ctx.mail("<a@example.org>")).code());
        assertEquals(ReturnCode.DECLINED, plugin.onRcpt(ctx.rcpt("<b@example.org>")).code());
    }

    @Test
    void deferRejectZeroOrFalseIsOff() throws Exception {
        for (String off : List.of("0", "false", "")) {
            assertEquals(ReturnCode.DENY, earlyTalkerAtConnect(plugin(Map.of("defer-reject", off))).code(), off);
        }
    }

    @Test
    void immuneClientsAreNotHeldBack() {
        ctx.session().inputWaiting(true).notes().put(SharedNotes.WHITELIST_HOST, true);
        HookResult answer = plugin(Map.of()).onConnect(ctx);
        assertTrue(answer.pending().isEmpty());
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertTrue(ctx.logged().contains("INFO skip, whitelisted host"), ctx.logged().toString());
        assertFalse(noted());
    }

    @Test
    void aClientWithGoodKarmaHistorySkipsTheDelay() throws Exception {
        ctx.session().inputWaiting(true).notes().put(SharedNotes.KARMA_HISTORY, 6);
        HookResult answer = plugin(Map.of()).onConnect(ctx);
        assertTrue(answer.pending().isEmpty());
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertTrue(ctx.logged().contains("INFO skip, karma 6"), ctx.logged().toString());
        ctx.session().notes().put(SharedNotes.KARMA_HISTORY, 5);
        assertEquals(ReturnCode.DENY, HookResults.settled(plugin(Map.of()).onConnect(ctx)).code());
    }

    @Test
    void byDefaultDataIsNotChecked() {
        ctx.session().inputWaiting(true);
        HookResult answer = plugin(Map.of()).onData(ctx);
        assertTrue(answer.pending().isEmpty());
        assertEquals(ReturnCode.DECLINED, answer.code());
    }

    @Test
    void checkAtDataRefusesAMessagePipelinedBeforeThe354AtOnce() {
        Earlytalker plugin = plugin(Map.of("check-at", new String[] {"DATA"}, "wait", 30.0));
        ctx.session().inputWaiting(true);
        HookResult refusal = plugin.onData(ctx);
        assertTrue(refusal.pending().isEmpty());
        assertEquals(ReturnCode.DENY, refusal.code());
        assertEquals(List.of(REPLY), refusal.message());
        assertTrue(noted());
        HookResult connect = plugin.onConnect(ctx);
        assertTrue(connect.pending().isEmpty(), "CONNECT is not checked when check-at names only DATA");
        assertEquals(ReturnCode.DECLINED, connect.code());
    }

    @Test
    void checkAtDataWaitsForAPoliteClientAndRefusesOneThatSendsDuringTheWait() throws Exception {
        Earlytalker plugin = plugin(Map.of("check-at", new String[] {"DATA"}));
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onData(ctx)).code());
        HookResult first = plugin.onData(ctx);
        ctx.session().inputWaiting(true);
        assertEquals(ReturnCode.DENY, HookResults.settled(first).code());
    }

    @Test
    void checkAtDataSparesAWhitelistedSender() {
        ctx.session().inputWaiting(true);
        ctx.transaction().notes().put(SharedNotes.WHITELIST_SENDER, true);
        assertEquals(ReturnCode.DECLINED, plugin(Map.of("check-at", new String[] {"DATA"})).onData(ctx).code());
    }

    @Test
    void checkAtTakesBothPointsInOneCommaSeparatedValueInAnyCase() throws Exception {
        Earlytalker plugin = plugin(Map.of("check-at", new String[] {"connect, Data"}));
        assertEquals(ReturnCode.DENY, earlyTalkerAtConnect(plugin).code());
        assertEquals(ReturnCode.DENY, plugin.onData(ctx).code());
    }

    @Test
    void checkAtWithoutAValueMeansConnect() throws Exception {
        assertEquals(ReturnCode.DENY, earlyTalkerAtConnect(plugin(Map.of("check-at", new String[] {""}))).code());
    }

    @Test
    void checkAtWithOnlyUnknownPointsChecksNothingAsInQpsmtpd() {
        Earlytalker plugin = plugin(Map.of("check-at", new String[] {"HELO"}));
        ctx.session().inputWaiting(true);
        assertEquals(ReturnCode.DECLINED, plugin.onConnect(ctx).code());
        assertEquals(ReturnCode.DECLINED, plugin.onData(ctx).code());
    }
}
