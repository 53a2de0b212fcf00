package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.postern.smtp.itests.MessageSession.finalReply;
import static org.postern.smtp.itests.MessageSession.message;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.postern.smtp.testkit.Dnsmasq;

/**
 * queue/spool without a relayhost: each recipient domain's MX hosts, found through Postern's resolver asking a real
 * DNS server (dnsmasq, of the test's own), and delivered to over SMTP on port 25 of the host the MX names. That host
 * is 127.0.0.2, where a real Postfix (of the test's own) listens on port 25 beside its usual test port, so no other
 * mail server on the machine is touched. The MX of the first domain points at a name without an address and,
 * preferred less, at Postfix: the delivery passes to the second MX. A domain with a null MX ("." at preference 0,
 * RFC 7505) is bounced at once.
 */
public class QueueSpoolMxIT {
    private static final String MX_ADDRESS = "127.0.0.2";
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ThrowawayPostfix postfix;
    private static Dnsmasq dns;

    @BeforeClass
    public static void start() throws Exception {
        postfix = ThrowawayPostfix.start(Map.of(
                "myhostname", "mx.mail.test",
                "inet_interfaces", "loopback-only",
                "virtual_mailbox_domains", "mail.test, example.org"), MX_ADDRESS + ":25 inet n - n - - smtpd\n");
        dns = Dnsmasq.start("--mx-host=mail.test,broken.mail.test,5", "--mx-host=mail.test,mx.mail.test,10",
                "--host-record=mx.mail.test," + MX_ADDRESS, "--mx-host=nomail.test,.,0",
                "--mx-host=example.org,mx.mail.test,10");
    }

    @AfterClass
    public static void stop() throws Exception {
        if (dns != null) {
            dns.close();
        }
        if (postfix != null) {
            postfix.close();
        }
    }

    @Test
    public void messagesGoToTheDomainsMxHostsAndANullMxBouncesAtOnce() throws Exception {
        ServerProcess postern = SERVERS.add(ServerProcess.posternWithPlugins("spool-mx", Map.of(
                "org.postern.dns.cfg", "nameservers = " + dns.address(),
                "org.postern.smtp.config.cfg", "rcpthosts = localhost, mail.test, nomail.test",
                "org.postern.smtp.plugin.queue.spool.cfg", "retry.initial = 1\nretry.max = 2"),
                List.of("plugin-queue-spool")).awaitPlugin("queue/spool"));
        String subject = "by-mx-" + UUID.randomUUID();
        String reply = finalReply(postern.port, List.of("someone@mail.test"), message(subject, "Hello.\r\n"));
        assertTrue(reply, reply.startsWith("250 2.0.0 Queued as "));
        String delivered = awaitDelivered("Subject: " + subject);
        assertTrue(delivered, delivered.contains("X-Original-To: someone@mail.test\n"));

        String bounced = "to-null-mx-" + UUID.randomUUID();
        reply = finalReply(postern.port, List.of("someone@nomail.test"), message(bounced, "Hello.\r\n"));
        assertTrue(reply, reply.startsWith("250 2.0.0 Queued as "));
        // the bounce goes to the sender, a@example.org, whose MX is the same Postfix
        String dsn = awaitDelivered("Subject: " + bounced);
        assertTrue(dsn, dsn.contains("Return-Path: <>"));
        assertTrue(dsn, dsn.contains("Content-Type: message/delivery-status") || dsn.contains("report-type=delivery-status"));
        assertTrue(dsn, dsn.contains("Final-Recipient: rfc822; someone@nomail.test"));
        assertTrue(dsn, dsn.contains("Status: 5.1.10"));
        assertEquals(1, count("Subject: " + subject));
    }

    private static String awaitDelivered(String text) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            for (Path file : postfix.delivered()) {
                String message = Files.readString(file);
                if (message.contains(text)) {
                    return message;
                }
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("no message with '" + text + "' delivered within 30 s:\n" + postfix.log());
            }
            Thread.sleep(100);
        }
    }

    private static long count(String text) throws Exception {
        long found = 0;
        for (Path file : postfix.delivered()) {
            if (Files.readString(file).contains(text)) {
                found++;
            }
        }
        return found;
    }
}
