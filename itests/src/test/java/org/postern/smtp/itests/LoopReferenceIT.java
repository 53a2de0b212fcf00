package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * loop side by side with qpsmtpd's plugin of the same name, both at {@code max_hops} 5: the same messages are
 * refused. Each server counts its own Received line, added before data_post, as qpsmtpd does.
 */
public class LoopReferenceIT {
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startBoth() throws Exception {
        qpsmtpd = ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(), "loop 5");
        postern = ServerProcess.posternWithPlugins("loop", Map.of("org.postern.smtp.plugin.loop.cfg", "max_hops = 5"),
                List.of("plugin-loop")).awaitPlugin("loop");
    }

    @AfterClass
    public static void stopBoth() throws Exception {
        if (qpsmtpd != null) {
            qpsmtpd.close();
        }
        if (postern != null) {
            postern.close();
        }
    }

    @Test
    public void aMessageBelowMaxHopsIsQueued() throws Exception {
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            String reply = dataReply(server.port, hops(3, 0));
            assertTrue(reply, reply.startsWith("250 "));
        }
    }

    @Test
    public void receivedAndDeliveredToLinesCountTogether() throws Exception {
        for (String message : List.of(hops(4, 0), hops(2, 2), hops(0, 7))) {
            String reply = dataReply(qpsmtpd.port, message);
            assertEquals("552 5.4.6 Too many hops", reply);
            assertEquals(message, reply, dataReply(postern.port, message));
        }
    }

    private static String hops(int received, int deliveredTo) {
        StringBuilder header = new StringBuilder();
        for (int i = 0; i < received; i++) {
            header.append("Received: from relay").append(i).append(".example by relay").append(i + 1).append(".example\r\n");
        }
        for (int i = 0; i < deliveredTo; i++) {
            header.append("Delivered-To: user").append(i).append("@example.org\r\n");
        }
        return header + "From: <a@example.org>\r\nSubject: loop test\r\n\r\nbody\r\n";
    }

    /**
     * The reply to the end of DATA, in one form for both servers: qpsmtpd puts the status code in the text
     * ({@code 552 Too many hops (#5.4.6)}), Postern after the reply code ({@code 552 5.4.6 Too many hops}).
     */
    private static String dataReply(int port, String message) throws Exception {
        return ClientScript.replyToMessage(port, message).replaceFirst("^(\\d{3}) (.*) \\(#(\\d\\.\\d{1,3}\\.\\d{1,3})\\)$", "$1 $3 $2");
    }
}
