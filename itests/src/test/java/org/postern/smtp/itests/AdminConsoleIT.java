package org.postern.smtp.itests;

import static org.junit.Assert.assertTrue;

import org.junit.Test;

/** The standalone launcher's admin console (bin/postern --console) and the postern: commands in it. */
public class AdminConsoleIT {

    private static String awaitOutput(ServerProcess server, String expected) throws Exception {
        long deadline = System.currentTimeMillis() + 15_000;
        String log = server.log();
        while (!log.contains(expected)) {
            assertTrue("the console never printed '" + expected + "':\n" + log, System.currentTimeMillis() < deadline);
            Thread.sleep(100);
            log = server.log();
        }
        return log;
    }

    @Test
    public void listenersChainsSessionsAndCountersAreShownInTheConsole() throws Exception {
        try (ServerProcess postern = ServerProcess.postern("console", "--console");
                SmtpClient idle = new SmtpClient(postern.port)) {
            idle.reply();
            idle.command("HELO watcher.example");
            try (SmtpClient client = new SmtpClient(postern.port)) {
                client.reply();
                client.command("EHLO client.example");
                client.command("MAIL FROM:<a@example.org>");
                client.command("RCPT TO:<postmaster@localhost>");
                client.command("DATA");
                assertTrue(client.command("Subject: counted\r\n\r\nbody\r\n.").startsWith("250"));
            }
            postern.type("postern:listeners");
            awaitOutput(postern, "listening on /127.0.0.1:" + postern.port + " (default)");
            postern.type("postern:chains");
            awaitOutput(postern, "listener default (/127.0.0.1:" + postern.port + ")\n");
            awaitOutput(postern, "rcpt\n     900  rcpt_ok                  org.postern.plugin-rcpt-ok 0.1.0.SNAPSHOT");
            awaitOutput(postern, "queue\n    1000  queue/maildir");
            postern.type("postern:sessions");
            awaitOutput(postern, "HELO watcher.example");
            postern.type("postern:counters");
            awaitOutput(postern, "         1  messages queued");
            assertTrue(awaitOutput(postern, "connections accepted").matches("(?s).*\\s[2-9]\\d*  connections accepted.*"));
        }
    }
}
