package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * random_error side by side with qpsmtpd's plugin of the same name at the rates whose outcome is certain: 100 (every
 * connection fails before the greeting) and -1 (nothing fails); and Postern alone at 0, which fails nothing here but
 * one message in a hundred in qpsmtpd.
 */
public class RandomErrorReferenceIT {
    /**
     * Lets the first connection through before random_error's connect hook, so that qpsmtpd can greet the
     * readiness check of {@link ServerProcess} with 220 at a rate of 100; its argument is a file it creates then.
     */
    private static final String PASS_FIRST_CONNECTION = String.join("\n",
            "use Qpsmtpd::Constants;",
            "sub register {",
            "    my ($self, $qp, $flag) = @_;",
            "    $self->{_flag} = $flag;",
            "}",
            "sub hook_connect {",
            "    my ($self) = @_;",
            "    return DECLINED if -e $self->{_flag};",
            "    open(my $fh, '>', $self->{_flag}) or return DECLINED;",
            "    close $fh;",
            "    return OK;",
            "}",
            "");
    private static final List<String> MESSAGE = List.of("HELO client.example", "MAIL FROM:<a@example.org>",
            "RCPT TO:<postmaster@localhost>", "DATA", "Subject: random_error\r\n\r\nHello.\r\n.", "QUIT");
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess qpsmtpdAlways;
    private static ServerProcess posternAlways;
    private static ServerProcess qpsmtpdNever;
    private static ServerProcess posternNever;
    private static ServerProcess posternZero;

    @BeforeClass
    public static void startServers() throws Exception {
        Path flags = Files.createTempDirectory("random-error");
        flags.toFile().setWritable(true, false);
        flags.toFile().setExecutable(true, false);
        qpsmtpdAlways = SERVERS.add(ServerProcess.qpsmtpd(List.of("localhost"),
                Map.of("pass_first_connection", PASS_FIRST_CONNECTION),
                "pass_first_connection " + flags.resolve("greeted"), "random_error 100"));
        posternAlways = SERVERS.add(postern("always", "100"));
        qpsmtpdNever = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(), "random_error -1"));
        posternNever = SERVERS.add(postern("never", "-1"));
        posternZero = SERVERS.add(postern("zero", "0"));
    }

    private static ServerProcess postern(String name, String percent) throws Exception {
        return ServerProcess.posternWithPlugins("random-error-" + name,
                Map.of("org.postern.smtp.plugin.random_error.cfg", "percent = " + percent),
                List.of("plugin-random-error")).awaitPlugin("random_error");
    }

    @Test
    public void atOneHundredEveryConnectionIsTurnedAwayTemporarily() throws Exception {
        for (int connection = 0; connection < 5; connection++) {
            List<String> reference = greetingAndClose(qpsmtpdAlways);
            assertEquals(List.of("450 random failure", "closed"), reference);
            assertEquals(reference, greetingAndClose(posternAlways));
        }
    }

    @Test
    public void aNegativeRateFailsNothing() throws Exception {
        for (int message = 0; message < 5; message++) {
            List<String> reference = withoutQueueText(ClientScript.replies(qpsmtpdNever, MESSAGE));
            assertEquals("250", reference.get(4));
            assertEquals(reference, withoutQueueText(ClientScript.replies(posternNever, MESSAGE)));
        }
    }

    @Test
    public void zeroFailsNothing() throws Exception {
        for (int message = 0; message < 20; message++) {
            List<String> replies = withoutQueueText(ClientScript.replies(posternZero, MESSAGE));
            assertEquals(List.of("250 localhost Hi", "250 <a@example.org>, sender OK - how exciting to get mail from you!",
                    "250 <postmaster@localhost>, recipient ok", "354 go ahead", "250",
                    "221 localhost closing connection. Have a wonderful day.", "closed"), replies);
        }
        assertEquals(20, posternZero.delivered("data/maildir").size());
    }

    /** The server's first reply, and whether it then closed the connection. */
    private static List<String> greetingAndClose(ServerProcess server) throws Exception {
        try (SmtpClient client = new SmtpClient(server.port)) {
            String greeting = client.reply().replaceAll("^(\\d{3} )\\d\\.\\d{1,3}\\.\\d{1,3} ", "$1");
            return List.of(greeting, client.closedByServerWithin(5000) ? "closed" : "open");
        }
    }

    /** The reply to the message's final dot by its code: each queue plugin words its 250 its own way. */
    private static List<String> withoutQueueText(List<String> replies) {
        return replies.stream().map(reply -> reply.startsWith("250 Queued") ? "250" : reply).toList();
    }
}
