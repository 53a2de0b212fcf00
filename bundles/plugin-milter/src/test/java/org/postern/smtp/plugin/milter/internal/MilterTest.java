package org.postern.smtp.plugin.milter.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.Transaction;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;

/** The plugin, hook by hook, against a stand-in milter that checks what it is sent and answers by script. */
class MilterTest {
    private static final String HEAD = "Received: from client.example\r\nFrom: a@example.org\r\nSubject: test\r\n";
    private static final int ALL = MilterProtocol.ALL_ACTIONS;

    private final List<AutoCloseable> open = new ArrayList<>();
    private final TestContext ctx = new TestContext().withConfig("me", "mx.example.org");

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable closeable : open) {
            closeable.close();
        }
    }

    private FakeMilter milter(FakeMilter.Script script) throws Exception {
        FakeMilter milter = new FakeMilter(script);
        open.add(milter);
        return milter;
    }

    private Milter plugin(FakeMilter milter, Map<String, Object> config) {
        Map<String, Object> all = new HashMap<>(Map.of("milter_name", "test", "milter_socket", "inet:" + milter.port() + "@127.0.0.1",
                "timeout.ms", 2000));
        all.putAll(config);
        Milter plugin = new Milter(TestConfig.of(Milter.Config.class, all));
        open.add(plugin::deactivate);
        return plugin;
    }

    /** connect, EHLO, MAIL, RCPT and DATA, each expected to pass; the message is set for data_post. */
    private void upToData(Milter plugin, String message) {
        ctx.transaction().sender("<a@example.org>").recipient("<b@example.org>").message(message);
        ctx.session().remoteHost("client.example");
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onConnect(ctx)).code());
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onEhlo(ctx.helo("client.example"))).code());
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onMail(ctx.mail("<a@example.org>"))).code());
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onRcpt(ctx.rcpt("<b@example.org>"))).code());
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onData(ctx)).code());
    }

    @Test
    void everyStageIsSentInOrderAndTheHeaderChangesAreApplied() throws Exception {
        FakeMilter milter = milter(conversation -> {
            conversation.negotiate(ALL, 0);
            conversation.continueUntilEndOfBody();
            conversation.replyIndexed('i', 0, "DKIM-Signature", "v=1; d=example.org;\n\tb=abc");
            conversation.reply('h', "X-Milter", "seen");
            conversation.replyIndexed('m', 1, "Subject", "changed");
            conversation.replyIndexed('m', 1, "Received", "");
            conversation.reply('c');
            conversation.drain();
        });
        Milter plugin = plugin(milter, Map.of());
        upToData(plugin, HEAD + "\r\nHello\r\n");

        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onDataPost(ctx)).code());
        plugin.onDisconnect(ctx);

        awaitCommands(milter, "Q");
        assertEquals(List.of("C client.example", "H client.example", "M <a@example.org>", "R <b@example.org>", "T",
                "L Received|from client.example", "L From|a@example.org", "L Subject|test", "N", "B Hello\r\n", "E", "Q"),
                milter.commands().stream().map(command -> command.replaceFirst("^C client.example.*", "C client.example")).toList());
        assertEquals(List.of("DKIM-Signature: v=1; d=example.org;\r\n\tb=abc", "From: a@example.org", "Subject: changed", "X-Milter: seen"),
                ctx.transaction().header().orElseThrow().fields().stream().map(field -> field.name() + ":" + field.value()).toList());
    }

    @Test
    void connectSendsFamilyPortAddressAndTheConnectMacros() throws Exception {
        FakeMilter milter = milter(conversation -> {
            conversation.negotiate(ALL, 0);
            conversation.command();
            conversation.reply('c');
            conversation.drain();
        });
        Milter plugin = plugin(milter, Map.of());
        ctx.session().remote("192.0.2.9", 40000).remoteHost("client.example");
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onConnect(ctx)).code());
        List<FakeMilter.Packet> packets = List.copyOf(milter.received);
        assertEquals('D', packets.get(1).command());
        assertEquals('C', packets.get(1).data()[0], "the macros of CONNECT");
        String macros = String.join("|", new MilterReply('D', packets.get(1).data()).strings(1));
        assertTrue(macros.startsWith("j|mx.example.org|{daemon_name}|mx.example.org|"), macros);
        assertTrue(macros.contains("{client_addr}|192.0.2.9|"), macros);
        byte[] connect = packets.get(2).data();
        String hostAndFamily = new String(connect, 0, "client.example".length() + 2, StandardCharsets.ISO_8859_1);
        assertEquals("client.example\0" + "4", hostAndFamily);
        assertEquals(40000, ((connect[16] & 0xff) << 8) | (connect[17] & 0xff));
        assertEquals("192.0.2.9\0", new String(connect, 18, connect.length - 18, StandardCharsets.ISO_8859_1));
    }

    @Test
    void onlyTheMacrosTheMilterListsForAStageAreSent() throws Exception {
        byte[] mailMacros = "{auth_authen} i\0".getBytes(StandardCharsets.US_ASCII);
        byte[] lists = ByteBuffer.allocate(4 + mailMacros.length).putInt(MilterProtocol.STAGE_MAIL).put(mailMacros).array();
        FakeMilter milter = milter(conversation -> {
            conversation.negotiate(ALL, 0, lists);
            while (true) {
                conversation.command();
                conversation.reply('c');
            }
        });
        Milter plugin = plugin(milter, Map.of());
        ctx.session().authenticated("alice");
        HookResults.settled(plugin.onConnect(ctx));
        HookResults.settled(plugin.onMail(ctx.mail("<a@example.org>")));
        List<List<String>> macros = milter.received.stream().filter(packet -> packet.command() == 'D')
                .map(packet -> new MilterReply('D', packet.data()).strings(1)).toList();
        assertEquals(2, macros.size(), macros.toString());
        assertTrue(macros.get(0).contains("{daemon_name}"), "no list for CONNECT: all of them " + macros);
        assertEquals(List.of("i", "test.1", "{auth_authen}", "alice"), macros.get(1));
    }

    @Test
    void rejectTempfailAndReplyCodeBecomeTheRepliesOfTheirStage() throws Exception {
        FakeMilter milter = milter(conversation -> {
            conversation.negotiate(ALL, 0);
            for (char answer : "cccrtc".toCharArray()) {
                conversation.command();
                conversation.reply(answer);
            }
            conversation.continueUntilEndOfBody();
            conversation.reply('y', "554-5.7.1 Virus found\r\n554 5.7.1 Eicar");
            conversation.drain();
        });
        Milter plugin = plugin(milter, Map.of());
        ctx.transaction().message(HEAD + "\r\nbody\r\n");
        HookResults.settled(plugin.onConnect(ctx));
        HookResults.settled(plugin.onHelo(ctx.helo("client.example")));
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onMail(ctx.mail("<a@example.org>"))).code());
        assertEquals("DENY 550 5.7.1 Rejected at RCPT TO by test milter", HookResults.settled(plugin.onRcpt(ctx.rcpt("<x@example.org>"))).toString());
        assertEquals("DENYSOFT 451 4.7.1 Deferred at RCPT TO by test milter", HookResults.settled(plugin.onRcpt(ctx.rcpt("<y@example.org>"))).toString());
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onRcpt(ctx.rcpt("<b@example.org>"))).code(), "one recipient refused, the message goes on");
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onData(ctx)).code());
        assertEquals("DENY 554 5.7.1 Virus found / Eicar", HookResults.settled(plugin.onDataPost(ctx)).toString());
        assertTrue(ctx.logged().contains("INFO test milter replied at end of DATA: 554-5.7.1 Virus found\r\n554 5.7.1 Eicar"), ctx.logged().toString());
    }

    @Test
    void aLargeBodyGoesIn64KiBChunksWholeAndSkipEndsItEarly() throws Exception {
        String body = "0123456789abcdef\r\n".repeat(10_000);
        ByteArrayOutputStream streamed = new ByteArrayOutputStream();
        List<Integer> chunks = new ArrayList<>();
        FakeMilter milter = milter(conversation -> {
            conversation.negotiate(ALL, MilterProtocol.SKIP);
            for (int message = 0; message < 2; message++) {
                while (true) {
                    FakeMilter.Packet packet = conversation.command();
                    if (packet.command() == 'E') {
                        conversation.reply('c');
                        break;
                    }
                    if (packet.command() == 'B') {
                        chunks.add(packet.data().length);
                        streamed.writeBytes(packet.data());
                        // the second message: SKIP after the first chunk
                        conversation.reply(message == 1 ? 's' : 'c');
                    } else if (packet.command() != 'A') {
                        conversation.reply('c');
                    }
                }
            }
            conversation.drain();
        });
        Milter plugin = plugin(milter, Map.of());
        upToData(plugin, HEAD + "\r\n" + body);
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onDataPost(ctx)).code());
        assertEquals(body, streamed.toString(StandardCharsets.ISO_8859_1));
        assertEquals(List.of(65535, 65535, 48930), chunks);

        plugin.onResetTransaction(ctx);
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onMail(ctx.mail("<a@example.org>"))).code());
        HookResults.settled(plugin.onRcpt(ctx.rcpt("<b@example.org>")));
        HookResults.settled(plugin.onData(ctx));
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onDataPost(ctx)).code());
        assertEquals(4, chunks.size(), "after SKIP no more body: " + chunks);
        assertTrue(!milter.commands().contains("A"), "a message seen to its end needs no ABORT: " + milter.commands());
    }

    @Test
    void stepsTheMilterSkipsAreNotSentAndThoseItLeavesUnansweredAreNotAwaited() throws Exception {
        FakeMilter milter = milter(conversation -> {
            conversation.negotiate(ALL, MilterProtocol.NOHELO | MilterProtocol.NR_CONN | MilterProtocol.NR_MAIL | MilterProtocol.NR_RCPT
                    | MilterProtocol.NODATA | MilterProtocol.NR_HDR | MilterProtocol.NR_EOH | MilterProtocol.NOBODY);
            while (conversation.command().command() != 'E') {
                // nothing is answered before the end of the body
            }
            conversation.reply('a');
            conversation.drain();
        });
        Milter plugin = plugin(milter, Map.of());
        upToData(plugin, HEAD + "\r\nbody\r\n");
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onDataPost(ctx)).code());
        assertEquals(List.of("C", "M", "R", "L", "L", "L", "N", "E"), milter.commands().stream().map(command -> command.substring(0, 1)).toList());
    }

    @Test
    void acceptAtHeloEndsTheMilterForTheRestOfTheSession() throws Exception {
        FakeMilter milter = milter(conversation -> {
            conversation.negotiate(ALL, 0);
            conversation.command();
            conversation.reply('c');
            conversation.command();
            conversation.reply('a');
            conversation.drain();
        });
        Milter plugin = plugin(milter, Map.of());
        upToData(plugin, HEAD + "\r\nbody\r\n");
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onDataPost(ctx)).code());
        assertEquals(List.of("C", "H"), milter.commands().stream().map(command -> command.substring(0, 1)).toList(),
                "after ACCEPT at HELO nothing more of the session");
        assertTrue(ctx.logged().contains("INFO test milter accepted at HELO"), ctx.logged().toString());
    }

    @Test
    void discardDropsTheMessageAtTheQueueWithA250() throws Exception {
        FakeMilter milter = milter(conversation -> {
            conversation.negotiate(ALL, 0);
            conversation.continueUntilEndOfBody();
            conversation.reply('d');
            conversation.drain();
        });
        Milter plugin = plugin(milter, Map.of());
        upToData(plugin, HEAD + "\r\nbody\r\n");
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onDataPost(ctx)).code());
        assertEquals("OK Message discarded", plugin.onQueue(ctx).toString());
        assertTrue(ctx.logged().contains("INFO discarded by the test milter, not queued"), ctx.logged().toString());
    }

    @Test
    void bodyReplacementAndEnvelopeChangesAreApplied() throws Exception {
        FakeMilter milter = milter(conversation -> {
            conversation.negotiate(ALL, 0);
            conversation.continueUntilEndOfBody();
            conversation.reply('b', "New body\r\n".getBytes(StandardCharsets.US_ASCII));
            conversation.reply('b', "in two chunks\r\n".getBytes(StandardCharsets.US_ASCII));
            conversation.reply('e', "<new@example.org>");
            conversation.reply('+', "<c@example.org>");
            conversation.reply('-', "<b@example.org>");
            conversation.reply('c');
            conversation.drain();
        });
        Milter plugin = plugin(milter, Map.of());
        upToData(plugin, HEAD + "\r\nOld body\r\n");
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onDataPost(ctx)).code());
        Transaction transaction = ctx.transaction();
        assertEquals("New body\r\nin two chunks\r\n", new String(transaction.body().readAllBytes(), StandardCharsets.ISO_8859_1));
        assertEquals("new@example.org", transaction.sender().orElseThrow().address());
        assertEquals(List.of("c@example.org"), transaction.recipients().stream().map(recipient -> recipient.address().address()).toList());
    }

    @Test
    void modificationsOfUndeclaredActionsAreIgnored() throws Exception {
        FakeMilter milter = milter(conversation -> {
            conversation.negotiate(MilterProtocol.ADDHDRS, 0);
            conversation.continueUntilEndOfBody();
            conversation.replyIndexed('m', 1, "Subject", "");
            conversation.reply('c');
            conversation.drain();
        });
        Milter plugin = plugin(milter, Map.of());
        upToData(plugin, HEAD + "\r\nbody\r\n");
        HookResults.settled(plugin.onDataPost(ctx));
        assertEquals(List.of("test"), ctx.transaction().header().orElseThrow().get("Subject"));
        assertTrue(ctx.logged().stream().anyMatch(line -> line.contains("the milter did not declare that action")), ctx.logged().toString());
    }

    @Test
    void anAbortedTransactionSendsAbortAndTheNextStartsAfresh() throws Exception {
        FakeMilter milter = milter(conversation -> {
            conversation.negotiate(ALL, 0);
            while (true) {
                char command = conversation.command().command();
                if (command != 'A' && command != 'Q') {
                    conversation.reply('c');
                }
            }
        });
        Milter plugin = plugin(milter, Map.of());
        HookResults.settled(plugin.onConnect(ctx));
        HookResults.settled(plugin.onMail(ctx.mail("<a@example.org>")));
        plugin.onResetTransaction(ctx);
        HookResults.settled(plugin.onMail(ctx.mail("<c@example.org>")));
        plugin.onDisconnect(ctx);
        awaitCommands(milter, "Q");
        assertEquals(List.of("C", "M <a@example.org>", "A", "M <c@example.org>", "Q"),
                milter.commands().stream().map(command -> command.startsWith("C ") ? "C" : command).toList());
    }

    @Test
    void aMilterThatIsDownDefersFromMailOnOrIsPassedAsMilterDefaultActionSays() throws Exception {
        FakeMilter milter = milter(conversation -> {
        });
        int port = milter.port();
        milter.close();
        Milter tempfail = plugin(milter, Map.of("milter_socket", "inet:" + port + "@127.0.0.1"));
        assertEquals(ReturnCode.DECLINED, HookResults.settled(tempfail.onConnect(ctx)).code(), "connect passes; MAIL tries again");
        assertEquals(ReturnCode.DECLINED, HookResults.settled(tempfail.onHelo(ctx.helo("client.example"))).code());
        assertEquals("DENYSOFT 451 4.7.1 Service temporarily unavailable, please try again later",
                HookResults.settled(tempfail.onMail(ctx.mail("<a@example.org>"))).toString());
        assertTrue(ctx.logged().stream().anyMatch(line -> line.startsWith("ERROR test milter at 127.0.0.1:" + port + " failed at MAIL FROM:")
                && line.endsWith("; deferred")), ctx.logged().toString());

        Milter accept = plugin(milter, Map.of("milter_socket", "inet:" + port + "@127.0.0.1", "milter_default_action", "accept"));
        HookResults.settled(accept.onConnect(ctx));
        assertEquals(ReturnCode.DECLINED, HookResults.settled(accept.onMail(ctx.mail("<a@example.org>"))).code());
        assertTrue(ctx.logged().get(ctx.logged().size() - 1).endsWith("; accepted without it"), ctx.logged().toString());
        int logged = ctx.logged().size();
        ctx.transaction().message(HEAD + "\r\nbody\r\n");
        assertEquals(ReturnCode.DECLINED, HookResults.settled(accept.onRcpt(ctx.rcpt("<b@example.org>"))).code());
        assertEquals(ReturnCode.DECLINED, HookResults.settled(accept.onData(ctx)).code());
        assertEquals(ReturnCode.DECLINED, HookResults.settled(accept.onDataPost(ctx)).code());
        assertEquals(logged, ctx.logged().size(), "the rest of the message goes without the milter, unlogged: " + ctx.logged());
    }

    @Test
    void aSilentMilterTimesOutButProgressKeepsItWaiting() throws Exception {
        FakeMilter milter = milter(conversation -> {
            conversation.negotiate(ALL, 0);
            conversation.command();
            conversation.reply('c');
            conversation.command();
            // the milter thinks for 1.8 s, saying PROGRESS every 300 ms
            for (int i = 0; i < 6; i++) {
                Thread.sleep(300);
                conversation.reply('p');
            }
            conversation.reply('c');
            conversation.command();
            conversation.drain();
        });
        Milter plugin = plugin(milter, Map.of("timeout.ms", 1000));
        HookResults.settled(plugin.onConnect(ctx));
        long start = System.nanoTime();
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onMail(ctx.mail("<a@example.org>"))).code());
        assertTrue(System.nanoTime() - start > 1_800_000_000L, "1.8 s of PROGRESS outlasts a 1 s timeout");
        HookResult silent = HookResults.settled(plugin.onRcpt(ctx.rcpt("<b@example.org>")));
        assertEquals("DENYSOFT 451 4.7.1 Service temporarily unavailable, please try again later", silent.toString());
        assertTrue(ctx.logged().stream().anyMatch(line -> line.contains("failed at RCPT TO: the milter did not answer within 1000 ms")), ctx.logged().toString());
    }

    @Test
    void theMilterIsReopenedAtTheNextMailAfterItFailedWithConnectAndHeloReplayed() throws Exception {
        List<String> firstCommands = new ArrayList<>();
        FakeMilter milter = milter(conversation -> {
            conversation.negotiate(ALL, 0);
            while (true) {
                FakeMilter.Packet packet = conversation.command();
                if (packet.command() == 'R' && firstCommands.isEmpty()) {
                    firstCommands.add("closed");
                    throw new EOFException("the milter crashes at the first RCPT");
                }
                if (packet.command() != 'A' && packet.command() != 'Q') {
                    conversation.reply('c');
                }
            }
        });
        Milter plugin = plugin(milter, Map.of());
        HookResults.settled(plugin.onConnect(ctx));
        HookResults.settled(plugin.onHelo(ctx.helo("client.example")));
        HookResults.settled(plugin.onMail(ctx.mail("<a@example.org>")));
        assertEquals(ReturnCode.DENYSOFT, HookResults.settled(plugin.onRcpt(ctx.rcpt("<b@example.org>"))).code());
        plugin.onResetTransaction(ctx);
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin.onMail(ctx.mail("<a@example.org>"))).code());
        assertEquals(List.of("C", "H client.example", "M <a@example.org>", "R <b@example.org>", "C", "H client.example", "M <a@example.org>"),
                milter.commands().stream().map(command -> command.startsWith("C ") ? "C" : command).toList());
        assertEquals(2, milter.received.stream().filter(packet -> packet.command() == 'O').count(), "a new connection, negotiated again");
    }

    @Test
    void thePeerCheckNegotiatesAndSaysWhatTheMilterAskedFor() throws Exception {
        FakeMilter milter = milter(conversation -> {
            conversation.negotiate(MilterProtocol.ADDHDRS, MilterProtocol.NOHELO);
            conversation.drain();
        });
        Milter plugin = plugin(milter, Map.of());
        assertEquals("milter test 127.0.0.1:" + milter.port(), plugin.peer());
        assertEquals("milter protocol 6, actions 0x1, protocol 0x2",
                plugin.probe(Duration.ofSeconds(2)).toCompletableFuture().get());
        assertNull(milter.failure.get());
    }

    private static void awaitCommands(FakeMilter milter, String last) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 5000;
        while (!milter.commands().contains(last) && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
    }
}
