package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * loadcheck side by side with qpsmtpd's plugin of the same name, both reading this machine's load average. A
 * {@code max_load} no load reaches lets every client in; a negative one (qpsmtpd takes any number but 0) stands
 * for a load that is too high: the greeting is replaced by the same 450 and the connection closes. A server that
 * turns everyone away never greets, which is how the tests know a server has started, so the refusing pair starts
 * relaxed and is reconfigured as an administrator would: qpsmtpd's config/plugins edited and SIGHUP, Postern's
 * etc/ file edited.
 */
public class LoadcheckReferenceIT {
    private static final String RELAXED = "max_load 1000";
    private static final String REFUSAL = "450 Server load too high, please try again later.";
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess qpsmtpdRelaxed;
    private static ServerProcess posternRelaxed;
    private static ServerProcess qpsmtpdOverloaded;
    private static ServerProcess posternOverloaded;

    @BeforeClass
    public static void startServers() throws Exception {
        qpsmtpdRelaxed = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(), "loadcheck " + RELAXED));
        posternRelaxed = SERVERS.add(postern("relaxed"));
        qpsmtpdOverloaded = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(), "loadcheck " + RELAXED));
        posternOverloaded = SERVERS.add(postern("overloaded"));

        Path plugins = qpsmtpdOverloaded.base.resolve("config/plugins");
        Files.writeString(plugins, Files.readString(plugins).replace(RELAXED, "max_load -1"));
        qpsmtpdOverloaded.hangUp();
        Files.writeString(posternOverloaded.base.resolve("etc/org.postern.smtp.plugin.loadcheck.cfg"), "max_load = -1\n");
        for (ServerProcess server : List.of(qpsmtpdOverloaded, posternOverloaded)) {
            awaitRefusal(server);
        }
    }

    private static ServerProcess postern(String name) throws Exception {
        return ServerProcess.posternWithPlugins("loadcheck-" + name, Map.of("org.postern.smtp.plugin.loadcheck.cfg",
                RELAXED.replace(" ", " = ")), List.of("plugin-loadcheck")).awaitPlugin("loadcheck");
    }

    private static void awaitRefusal(ServerProcess server) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (!greetingAndClose(server).get(0).equals(REFUSAL)) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("still greeting 20 s after the reconfiguration:\n" + server.log());
            }
            Thread.sleep(100);
        }
    }

    private static List<String> greetingAndClose(ServerProcess server) throws Exception {
        try (SmtpClient client = new SmtpClient(server.port)) {
            return List.of(ClientScript.comparable(client.reply()), client.closedByServerWithin(5000) ? "closed" : "open");
        }
    }

    @Test
    public void aLoadAboveMaxLoadGetsQpsmtpdsRefusalInsteadOfTheGreeting() throws Exception {
        assertEquals(List.of(REFUSAL, "closed"), greetingAndClose(qpsmtpdOverloaded));
        assertEquals(List.of(REFUSAL, "closed"), greetingAndClose(posternOverloaded));
        try (SmtpClient client = new SmtpClient(posternOverloaded.port)) {
            assertEquals("450 4.3.2 Server load too high, please try again later.", client.reply());
        }
        assertTrue(posternOverloaded.log(), posternOverloaded.log().matches("(?s).*local load too high: \\d+\\.\\d\\d.*"));
    }

    @Test
    public void aLoadBelowMaxLoadIsGreetedAndServed() throws Exception {
        List<String> lines = List.of("HELO client.example", "QUIT");
        List<String> qpsmtpdReplies = ClientScript.replies(qpsmtpdRelaxed, lines);
        assertEquals("250 localhost Hi", qpsmtpdReplies.get(0));
        assertEquals(qpsmtpdReplies.get(0), ClientScript.replies(posternRelaxed, lines).get(0));
        for (ServerProcess server : List.of(qpsmtpdRelaxed, posternRelaxed)) {
            try (SmtpClient client = new SmtpClient(server.port)) {
                assertTrue(client.reply().startsWith("220 "));
            }
        }
    }
}
