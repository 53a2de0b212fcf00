package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.composite;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.Dnsmasq;

/**
 * The fcrdns plugin in the server, through the server's resolver, against a real DNS server: dnsmasq on a
 * loopback port, where 127.0.0.1 is mx.fcrdns.test and mx.fcrdns.test is 127.0.0.1, and 127.0.0.2 has no PTR
 * record; then against a DNS server that never answers. Clients connect from those two loopback addresses.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class FcrdnsIT extends PosternTestSupport {
    private static final NoteKey<String> FCRDNS = NoteKey.of("fcrdns", String.class);

    @Override
    @Configuration
    public Option[] config() {
        return new Option[] {composite(super.config()), dnsResolver(),
            postern("plugin-fcrdns")};
    }

    /** dnsmasq answers the test names from its records alone, and NXDOMAIN for the rest of those zones. */
    private static Dnsmasq startDns() throws Exception {
        return Dnsmasq.start("--local=/fcrdns.test/", "--local=/127.in-addr.arpa/",
                "--ptr-record=1.0.0.127.in-addr.arpa,mx.fcrdns.test", "--host-record=mx.fcrdns.test,127.0.0.1");
    }


    private void configureFcrdns(Map<String, Object> settings) throws IOException {
        configAdmin.getConfiguration("org.postern.smtp.plugin.fcrdns", "?").update(new Hashtable<>(settings));
    }

    /** The greeting a client connecting from this loopback address gets; empty when it could not connect. */
    private static String greeting(int port, String clientAddress) {
        try (SmtpClient client = new SmtpClient(port, clientAddress)) {
            String reply = client.reply();
            return reply == null ? "" : reply;
        } catch (IOException e) {
            return "";
        }
    }

    private static String noteAndKarma(HookContext ctx) {
        return ctx.session().notes().get(FCRDNS).orElse("none") + " karma " + ctx.session().notes().get(SharedNotes.KARMA).orElse(0);
    }

    @Test
    public void aClientWhoseNameLeadsBackIsConfirmedAndOneWithoutPtrIsNotedButWelcome() throws Exception {
        try (Dnsmasq dns = startDns()) {
            useNameserver(dns.address(), 2000);
            configureFcrdns(Map.of("reject", "0"));
            Map<String, String> seen = new ConcurrentHashMap<>();
            hook(HookType.CONNECT, 900, ctx -> {
                seen.put(ctx.session().remoteAddress().getAddress().getHostAddress(), noteAndKarma(ctx));
                return HookResult.declined();
            });
            int port = startServer(Map.of());
            await("127.0.0.1 to be confirmed", () -> greeting(port, "127.0.0.1").startsWith("220 ")
                    && "pass karma 1".equals(seen.get("127.0.0.1")));
            await("127.0.0.2 to be noted without rDNS", () -> greeting(port, "127.0.0.2").startsWith("220 ")
                    && "permerror karma -1".equals(seen.get("127.0.0.2")));
        }
    }

    @Test
    public void withRejectOnAClientWithoutPtrIsRefusedAndDisconnected() throws Exception {
        try (Dnsmasq dns = startDns()) {
            useNameserver(dns.address(), 2000);
            configureFcrdns(Map.of("reject", "1", "reject_type", "perm"));
            int port = startServer(Map.of());
            String refusal = "550 5.7.1 No forward-confirmed reverse DNS for 127.0.0.2";
            await("the refusal", () -> greeting(port, "127.0.0.2").equals(refusal));
            try (SmtpClient client = new SmtpClient(port, "127.0.0.2")) {
                assertEquals(refusal, client.reply());
                assertTrue("the server closes the connection", client.closedByServerWithin(5000));
            }
            String confirmed = greeting(port, "127.0.0.1");
            assertTrue(confirmed, confirmed.startsWith("220 "));
        }
    }

    @Test
    public void aDnsServerThatNeverAnswersRefusesNobody() throws Exception {
        int silent;
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            silent = socket.getLocalPort();
        }
        try (Dnsmasq dns = startDns()) {
            useNameserver(dns.address(), 2000);
            configureFcrdns(Map.of("reject", "1", "reject_type", "disconnect"));
            List<String> seen = new CopyOnWriteArrayList<>();
            hook(HookType.CONNECT, 900, ctx -> {
                seen.add(noteAndKarma(ctx));
                return HookResult.declined();
            });
            int port = startServer(Map.of());
            await("the plugin to refuse", () -> greeting(port, "127.0.0.2").startsWith("550 "));
            useNameserver("127.0.0.1:" + silent, 400);
            await("a welcome without an answer", () -> greeting(port, "127.0.0.2").startsWith("220 ")
                    && seen.contains("temperror karma 0"));
        }
    }
}
