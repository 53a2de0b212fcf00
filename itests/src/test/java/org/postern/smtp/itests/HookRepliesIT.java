package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.postern.smtp.api.HookType.*;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;

/**
 * Every return code at every hook that decides a reply, over a real socket, against the spec's table (and
 * qpsmtpd's *_respond methods). Each case registers one test plugin for the hook under test, drives a
 * session to that hook, and checks the reply code and whether the server closed the connection.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HookRepliesIT extends PosternTestSupport {
    private static int port;

    private record Case(HookType hook, HookResult answer, String expected, boolean closes) {
        @Override
        public String toString() {
            return hook.hookName() + " " + answer + " -> " + expected + (closes ? " + close" : "");
        }
    }

    private final List<Case> cases = new ArrayList<>();

    @Before
    public void start() throws Exception {
        if (port == 0) {
            port = startServer(Map.of());
        }
    }

    private void expect(HookType hook, HookResult answer, String expected, boolean closes) {
        cases.add(new Case(hook, answer, expected, closes));
    }

    /** The same table for a hook at which DENY*, OK, DECLINED and DONE are all meaningful. */
    private void expectDenials(HookType hook, String deny, String denySoft, String denyDisconnect, String denySoftDisconnect) {
        expect(hook, HookResult.deny(), deny, false);
        expect(hook, HookResult.denySoft(), denySoft, false);
        expect(hook, HookResult.denyDisconnect(), denyDisconnect, true);
        expect(hook, HookResult.denySoftDisconnect(), denySoftDisconnect, true);
    }

    @Test
    public void connectionHooks() throws Exception {
        expect(PRE_CONNECTION, HookResult.deny(), "550", true);
        expect(PRE_CONNECTION, HookResult.denyDisconnect(), "550", true);
        expect(PRE_CONNECTION, HookResult.denySoft(), "451", true);
        expect(PRE_CONNECTION, HookResult.denySoftDisconnect(), "451", true);
        expect(PRE_CONNECTION, HookResult.ok(), "220", false);
        expect(PRE_CONNECTION, HookResult.done(554, "a reply nobody may send here"), "220", false);
        expect(CONNECT, HookResult.deny(), "550", true);
        expect(CONNECT, HookResult.denyDisconnect(), "550", true);
        expect(CONNECT, HookResult.denySoft(), "450", true);
        expect(CONNECT, HookResult.denySoftDisconnect(), "450", true);
        expect(CONNECT, HookResult.ok(), "220", false);
        expect(CONNECT, HookResult.declined(), "220", false);
        expect(CONNECT, HookResult.done(554, "No SMTP service here"), "554 5.0.0 No SMTP service here", false);
        runCases();
    }

    @Test
    public void helloHooks() throws Exception {
        for (HookType hello : List.of(HELO, EHLO)) {
            expectDenials(hello, "550", "450", "550", "450");
            expect(hello, HookResult.ok(), "250", false);
            expect(hello, HookResult.declined(), "250", false);
            expect(hello, HookResult.done(250, "hello from the plugin"), "250 2.0.0 hello from the plugin", false);
        }
        runCases();
    }

    @Test
    public void envelopeHooks() throws Exception {
        expectDenials(MAIL, "550 5.7.1 <sender@example.org>, denied", "450 4.7.1 <sender@example.org>, temporarily denied",
                "550", "421");
        expect(MAIL, HookResult.ok(), "250 2.1.0 <sender@example.org>, sender OK", false);
        expect(MAIL, HookResult.ok("known sender"), "250 2.1.0 known sender", false);
        expect(MAIL, HookResult.declined(), "250", false);
        expect(MAIL, HookResult.deny("We do not like you").withReplyCode(553).withEnhancedStatus("5.7.27"),
                "553 5.7.27 We do not like you", false);
        expectDenials(RCPT, "550 5.7.1 relaying denied", "450 4.7.1 relaying denied", "550 5.7.1 delivery denied", "421");
        expect(RCPT, HookResult.ok(), "250 2.1.5 <rcpt@example.org>, recipient ok", false);
        expect(RCPT, HookResult.ok("known recipient"), "250 2.1.5 known recipient", false);
        expect(RCPT, HookResult.declined(), "450 4.7.1 No plugin decided if relaying is allowed", false);
        expect(RCPT, HookResult.denySoft("Mailbox busy").withReplyCode(452), "452 4.7.1 Mailbox busy", false);
        expect(RCPT, HookResult.denySoft("wrong class ignored").withReplyCode(550), "450 4.7.1 wrong class ignored", false);
        runCases();
    }

    @Test
    public void dataHooks() throws Exception {
        expectDenials(DATA, "554 5.7.1 Message denied", "451 4.7.1 Message denied temporarily", "554", "421");
        expect(DATA, HookResult.ok(), "354", false);
        expect(DATA, HookResult.ok("send it"), "354 send it", false);
        expect(DATA, HookResult.done(), "451 4.3.0 Message not accepted, please try again later", false);
        expect(DATA, HookResult.declined(), "354", false);
        expect(DATA_HEADERS_END, HookResult.denyDisconnect(), "554 5.7.1 Message denied", true);
        expect(DATA_HEADERS_END, HookResult.denySoftDisconnect(), "421 4.7.1 Message denied temporarily", true);
        expect(DATA_HEADERS_END, HookResult.declined(), "250", false);
        expect(DATA_HEADERS_END, HookResult.deny(), "250", false);
        for (HookType content : List.of(DATA_POST_HEADERS, DATA_POST)) {
            expectDenials(content, "552 5.7.1 Message denied", "452 4.7.1 Message denied temporarily", "552", "452");
            expect(content, HookResult.ok(), "250", false);
            expect(content, HookResult.declined(), "250", false);
            expect(content, HookResult.done(), "451", false);
            expect(content, HookResult.done(250, "dropped on purpose"), "250 2.0.0 dropped on purpose", false);
        }
        expect(QUEUE_PRE, HookResult.done(), "451", false);
        expect(QUEUE_PRE, HookResult.ok(), "250", false);
        expect(QUEUE_PRE, HookResult.declined(), "250", false);
        expect(QUEUE, HookResult.ok(), "250 2.0.0 Queued", false);
        expect(QUEUE, HookResult.ok("Queued as 42"), "250 2.0.0 Queued as 42", false);
        expect(QUEUE, HookResult.deny(), "552 5.3.0 Message denied", false);
        expect(QUEUE, HookResult.denySoft(), "452 4.3.0 Message denied temporarily", false);
        expect(QUEUE, HookResult.declined(), "451 4.3.0 Queuing declined or disabled; try again later", false);
        expect(QUEUE, HookResult.done(), "451", false);
        runCases();
    }

    @Test
    public void otherCommandHooks() throws Exception {
        expect(UNRECOGNIZED_COMMAND, HookResult.declined(), "500 5.5.1 Unrecognized command", false);
        expect(UNRECOGNIZED_COMMAND, HookResult.deny("no such thing"), "500 5.5.1 no such thing", false);
        expect(UNRECOGNIZED_COMMAND, HookResult.denyDisconnect(), "521", true);
        expect(UNRECOGNIZED_COMMAND, HookResult.done(250, "FOOBAR done"), "250 2.0.0 FOOBAR done", false);
        expect(HELP, HookResult.declined(), "214", false);
        expect(HELP, HookResult.ok("See the manual"), "214 2.0.0 See the manual", false);
        expect(HELP, HookResult.deny(), "500 5.5.1 Syntax error, command not recognized", false);
        expect(NOOP, HookResult.declined(), "250 2.0.0 OK", false);
        expect(NOOP, HookResult.deny(), "500 5.7.1 Stop wasting my time.", false);
        expect(NOOP, HookResult.denyDisconnect(), "500", true);
        expect(VRFY, HookResult.declined(), "252", false);
        expect(VRFY, HookResult.ok(), "250 2.0.0 User OK", false);
        expect(VRFY, HookResult.deny(), "554 5.7.1 Access Denied", false);
        expect(QUIT, HookResult.declined(), "221 2.0.0 test.postern closing connection", true);
        expect(QUIT, HookResult.ok("See you"), "221 2.0.0 See you", true);
        expect(QUIT, HookResult.done(221, "Bye from the plugin"), "221 2.0.0 Bye from the plugin", true);
        runCases();
    }

    @Test
    public void everyPluginDeclinedAtRcptGives450AndQueueWithoutPluginGives451() throws Exception {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
            client.command("EHLO client.example");
            client.command("MAIL FROM:<a@example.org>");
            assertEquals("450 4.7.1 No plugin decided if relaying is allowed", client.command("RCPT TO:<b@example.org>"));
        }
        hook(RCPT, 5000, ctx -> HookResult.ok());
        try (SmtpClient client = SmtpClient.inTransaction(port)) {
            client.command("DATA");
            assertEquals("451 4.3.0 Queuing declined or disabled; try again later", client.command("Subject: x\r\n\r\nbody\r\n."));
        }
    }

    /**
     * One rule for a plugin that fails (throws, times out): at every hook whose answer decides the reply, the
     * client gets the configured failure, 451 4.3.0, never a success or a permanent refusal; before the
     * greeting the connection closes; at data_headers_end the reply waits for the final dot.
     */
    @Test
    public void aFailingPluginGetsTheSameTemporaryFailureAtEveryDecidingHook() throws Exception {
        String failure = "451 4.3.0 Temporary failure, please try again later";
        Map<HookType, HookType> answeredAt = new java.util.LinkedHashMap<>();
        for (HookType hook : List.of(PRE_CONNECTION, CONNECT, HELO, EHLO, MAIL, RCPT, DATA, DATA_HEADERS_END,
                DATA_POST_HEADERS, DATA_POST, QUEUE_PRE, QUEUE, UNRECOGNIZED_COMMAND, HELP, NOOP, VRFY)) {
            answeredAt.put(hook, hook);
        }
        answeredAt.put(HELO_PARSE, HELO);
        answeredAt.put(EHLO_PARSE, EHLO);
        answeredAt.put(MAIL_PARSE, MAIL);
        answeredAt.put(MAIL_PRE, MAIL);
        answeredAt.put(RCPT_PARSE, RCPT);
        answeredAt.put(RCPT_PRE, RCPT);
        List<String> mismatches = new ArrayList<>();
        for (Map.Entry<HookType, HookType> entry : answeredAt.entrySet()) {
            HookType hook = entry.getKey();
            hook(hook, 10, ctx -> {
                throw new IllegalStateException("broken on purpose");
            });
            if (entry.getValue().ordinal() > RCPT.ordinal() && entry.getValue().ordinal() <= QUEUE.ordinal()) {
                hook(RCPT, 5000, ctx -> HookResult.ok());
                hook(QUEUE, 5000, ctx -> HookResult.ok());
            }
            try (SmtpClient client = new SmtpClient(port)) {
                String reply = HookDriver.driveTo(client, entry.getValue());
                boolean beforeGreeting = hook == PRE_CONNECTION || hook == CONNECT;
                if (!failure.equals(reply)) {
                    mismatches.add(hook.hookName() + ": " + reply);
                } else if (beforeGreeting && !client.closedByServerWithin(5000)) {
                    mismatches.add(hook.hookName() + ": the connection stayed open without a greeting");
                } else if (!beforeGreeting && !"250 2.0.0 OK".equals(client.command("RSET"))) {
                    mismatches.add(hook.hookName() + ": the session was unusable afterwards");
                }
            } finally {
                unregisterTestPlugins();
            }
        }
        assertTrue("hooks where a failing plugin did not give " + failure + ":\n" + String.join("\n", mismatches), mismatches.isEmpty());
    }

    private void runCases() throws Exception {
        List<String> failures = new ArrayList<>();
        for (Case c : cases) {
            String outcome = run(c);
            if (outcome != null) {
                failures.add(c + ": " + outcome);
            }
        }
        assertTrue("mismatches:\n" + String.join("\n", failures), failures.isEmpty());
    }

    /** Runs one case; returns null when the server behaved as expected, else what it did instead. */
    private String run(Case c) throws Exception {
        hook(c.hook(), 10, ctx -> c.answer());
        if (c.hook().ordinal() > RCPT.ordinal() && c.hook().ordinal() <= QUEUE.ordinal()) {
            hook(RCPT, 5000, ctx -> HookResult.ok());
            if (c.hook() != QUEUE) {
                hook(QUEUE, 5000, ctx -> HookResult.ok());
            }
        }
        try (SmtpClient client = new SmtpClient(port)) {
            String reply = HookDriver.driveTo(client, c.hook());
            if (reply == null || !reply.startsWith(c.expected())) {
                return "got " + reply;
            }
            if (c.closes()) {
                return client.closedByServerWithin(5000) ? null : "connection stayed open";
            }
            if (reply.startsWith("354")) {
                client.command("Subject: finishing the message\r\n\r\nbody\r\n.");
            }
            String rset = client.command("RSET");
            return rset != null && rset.startsWith("250") ? null : "session unusable afterwards, RSET got " + rset;
        } catch (IOException e) {
            return e.toString();
        } finally {
            unregisterTestPlugins();
        }
    }
}
