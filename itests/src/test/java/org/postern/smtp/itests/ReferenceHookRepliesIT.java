package org.postern.smtp.itests;

import static org.junit.Assert.assertTrue;
import static org.postern.smtp.api.HookType.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.ReturnCode;

/**
 * Every return code at every hook qpsmtpd 0.94 answers from, side by side: a test plugin in each server gives
 * the same answer at the same hook (in qpsmtpd a Perl plugin that reads the answer from a file), the same
 * client lines go to both, and the reply codes and closes must match, except the differences listed with
 * their reasons (see the README's "Differences from qpsmtpd"). DONE is left out: in qpsmtpd it means the
 * plugin sent its own reply, which HookRepliesIT covers for Postern.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ReferenceHookRepliesIT extends PosternTestSupport {
    /** Answers the hook named in the answer file with the return code named there, as the Postern test plugin. */
    private static final String ANSWER_FROM_FILE = String.join("\n",
            "use Qpsmtpd::Constants;",
            "my %codes = (OK => OK, DENY => DENY, DENYSOFT => DENYSOFT, DENY_DISCONNECT => DENY_DISCONNECT,",
            "    DENYSOFT_DISCONNECT => DENYSOFT_DISCONNECT, DECLINED => DECLINED);",
            "sub register {",
            "    my ($self, $qp, $file) = @_;",
            "    $self->{_answer_file} = $file;",
            "    $self->register_hook($_, 'answer') for qw(connect helo ehlo mail rcpt data data_post queue quit",
            "        unrecognized_command help noop vrfy);",
            "}",
            "sub answer {",
            "    my ($self) = @_;",
            "    open(my $fh, '<', $self->{_answer_file}) or return DECLINED;",
            "    my $line = <$fh>;",
            "    close $fh;",
            "    chomp $line;",
            "    my ($hook, $code) = split / /, $line;",
            "    return DECLINED unless $hook eq $self->hook_name;",
            "    return ($codes{$code}, 'answered by the test');",
            "}",
            "");

    private static final List<HookType> HOOKS = List.of(CONNECT, HELO, EHLO, MAIL, RCPT, DATA, DATA_POST, QUEUE, QUIT,
            UNRECOGNIZED_COMMAND, HELP, NOOP, VRFY);
    private static final List<ReturnCode> CODES = List.of(ReturnCode.OK, ReturnCode.DECLINED, ReturnCode.DENY,
            ReturnCode.DENYSOFT, ReturnCode.DENY_DISCONNECT, ReturnCode.DENYSOFT_DISCONNECT);

    /** Where Postern answers otherwise on purpose: "hook CODE" → Postern's reply code, and why. */
    private static final Map<String, String> DIFFERENCES = Map.of();

    private static ServerProcess qpsmtpd;
    private static Path answerFile;
    private static int port;

    @Before
    public void start() throws Exception {
        if (qpsmtpd == null) {
            answerFile = Files.createTempDirectory("postern-answer").resolve("answer");
            Files.writeString(answerFile, "none DECLINED\n");
            answerFile.getParent().toFile().setExecutable(true, false);
            answerFile.getParent().toFile().setReadable(true, false);
            answerFile.toFile().setReadable(true, false);
            // the driver's recipient is rcpt@example.org: local for qpsmtpd's rcpt_ok, accepted by a plugin in Postern
            qpsmtpd = ServerProcess.qpsmtpd(List.of("localhost", "example.org"), Map.of("answer_from_file", ANSWER_FROM_FILE),
                    "answer_from_file " + answerFile);
            port = startServer(Map.of("me", "localhost"));
            configItems(Map.of("rcpthosts", "localhost"));
        }
    }

    @After
    public void stopQpsmtpdAfterTheLastTest() throws Exception {
        // pax-exam runs @AfterClass after each test method; the class has one test, so its end is the class's end
        if (qpsmtpd != null) {
            qpsmtpd.close();
            qpsmtpd = null;
        }
    }

    @Test
    public void everyReturnCodeAtEveryHookGetsQpsmtpdsReply() throws Exception {
        List<String> mismatches = new ArrayList<>();
        java.util.Set<String> referenceOutcomes = new java.util.TreeSet<>();
        for (HookType hook : HOOKS) {
            for (ReturnCode code : CODES) {
                Files.writeString(answerFile, hook.hookName() + " " + code + "\n");
                String reference = outcome(qpsmtpd.port, hook);
                hook(hook, 10, ctx -> HookResult.of(code, "answered by the test"));
                hook(RCPT, 5000, ctx -> HookResult.ok());
                hook(QUEUE, 5000, ctx -> HookResult.ok());
                String ours;
                try {
                    ours = outcome(port, hook);
                } finally {
                    unregisterTestPlugins();
                }
                referenceOutcomes.add(reference);
                String key = hook.hookName() + " " + code;
                String expected = DIFFERENCES.getOrDefault(key, reference);
                if (!expected.equals(ours)) {
                    mismatches.add(key + ": qpsmtpd " + reference + ", postern " + ours);
                }
            }
        }
        assertTrue("replies that differ from qpsmtpd's:\n" + String.join("\n", mismatches), mismatches.isEmpty());
        assertTrue("qpsmtpd's test plugin answered: " + referenceOutcomes,
                referenceOutcomes.containsAll(List.of("250", "354", "450", "550", "550+close", "421+close", "221+close")));
    }

    /** The reply code at the hook, and "+close" when the server then closed the connection. */
    private static String outcome(int port, HookType hook) {
        try (SmtpClient client = new SmtpClient(port)) {
            client.setTimeoutMillis(5000);
            String reply = HookDriver.driveTo(client, hook);
            if (reply == null) {
                return "EOF";
            }
            String code = reply.substring(0, 3);
            return code + (client.closedByServerWithin(hook == QUIT ? 2000 : 300) ? "+close" : "");
        } catch (IOException e) {
            return e.getClass().getSimpleName();
        }
    }
}
