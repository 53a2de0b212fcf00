package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;

/**
 * Plugins that never answer, under load: every client still gets an answer (451 when a call's time runs
 * out, 421 when the hook queue is full, 421 when a session waited for plugins as long as a client may),
 * the server keeps serving, and the threads held by stuck calls show in the counters.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class StallsIT extends PosternTestSupport {
    private static final int SESSIONS = 200;
    private final CountDownLatch release = new CountDownLatch(1);
    private int port;

    @Before
    public void start() throws Exception {
        port = startServer(Map.of("hook.threads", 4, "hook.queue.size", 50, "hook.timeout", 1, "command.timeout", 3,
                "max.connections.per.ip", 1000));
    }

    @After
    public void releaseStuckPlugins() {
        release.countDown();
    }

    @Test
    public void aPluginThatSleepsForeverUnder200SessionsLeavesNoClientWithoutAnAnswer() throws Exception {
        hook(HookType.RCPT, 10, ctx -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return HookResult.ok();
        });
        ExecutorService clients = Executors.newFixedThreadPool(SESSIONS);
        List<Future<String>> replies = new ArrayList<>();
        try {
            for (int i = 0; i < SESSIONS; i++) {
                replies.add(clients.submit(() -> {
                    try (SmtpClient client = new SmtpClient(port)) {
                        client.reply();
                        client.command("EHLO client.example");
                        client.command("MAIL FROM:<a@example.org>");
                        return client.command("RCPT TO:<b@example.org>");
                    }
                }));
            }
            int timedOut = 0;
            int overloaded = 0;
            for (Future<String> reply : replies) {
                String text = reply.get(20, TimeUnit.SECONDS);
                if (text.startsWith("451 4.3.0 ")) {
                    timedOut++;
                } else {
                    assertEquals("421 4.3.2 System overloaded, try again later", text);
                    overloaded++;
                }
            }
            assertEquals(SESSIONS, timedOut + overloaded);
            assertTrue("some calls waited in the queue and timed out there: " + timedOut, timedOut > 4);
            assertTrue("the queue of 50 overflowed: " + overloaded, overloaded > 0);
        } finally {
            clients.shutdownNow();
        }
        try (SmtpClient client = new SmtpClient(port)) {
            assertTrue(client.reply().startsWith("220"));
            assertEquals("250 2.0.0 OK", client.command("NOOP"));
        }
        String counters = counters();
        assertTrue(counters, counters.matches("(?s).* 4  hook threads held by calls past their timeout\\n.*"));
    }

    @Test
    public void aSessionWaitingForPluginsLongerThanTheCommandTimeoutIsClosedWith421() throws Exception {
        ServiceRegistration<?> never = hook(HookType.RCPT, 10, "never", ctx -> HookResult.later(new java.util.concurrent.CompletableFuture<>()));
        never.setProperties(new java.util.Hashtable<>(Map.of("postern.hook", "rcpt", "postern.hook.order", 10,
                "postern.plugin", "never", "postern.hook.timeout", 60)));
        try (SmtpClient client = SmtpClient.inTransaction(port)) {
            String reply = client.lastReply();
            assertEquals("421 4.4.2 test.postern Timeout waiting for plugins; closing connection", reply);
            assertTrue(client.closedByServerWithin(2000));
        }
    }

    private String counters() throws Exception {
        ServiceReference<?> reference = context.getServiceReference("org.postern.smtp.core.internal.PosternCommands");
        Object commands = context.getService(reference);
        try {
            return (String) commands.getClass().getMethod("counters").invoke(commands);
        } finally {
            context.ungetService(reference);
        }
    }
}
