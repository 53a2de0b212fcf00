package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.ops4j.pax.exam.CoreOptions.composite;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.AfterClass;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.testkit.Dnsmasq;

/** qpsmtpd's remote_host: the client's PTR name, looked up through the server's resolver before pre_connection. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RemoteHostIT extends PosternTestSupport {
    private static Dnsmasq dns;

    @Override
    @Configuration
    public Option[] config() {
        return new Option[] {composite(super.config()), dnsResolver()};
    }

    /** pax-exam's native container may run this after each test method: the next one starts dnsmasq again. */
    @AfterClass
    public static void stopDns() throws InterruptedException {
        if (dns != null) {
            dns.close();
            dns = null;
        }
    }

    private String dns() throws Exception {
        if (dns == null) {
            dns = Dnsmasq.start("--local=/test/", "--local=/127.in-addr.arpa/", "--ptr-record=1.0.0.127.in-addr.arpa,client.remotehost.test");
        }
        return dns.address();
    }

    @Test
    public void theClientsPtrNameIsItsRemoteHostUnlessTheLookupIsOff() throws Exception {
        useNameserver(dns());
        List<String> seen = new CopyOnWriteArrayList<>();
        hook(HookType.PRE_CONNECTION, 10, ctx -> {
            seen.add(ctx.session().remoteHost());
            return HookResult.declined();
        });
        int port = startServer(Map.of());
        await("the resolver to answer", () -> {
            greet(port);
            return seen.contains("client.remotehost.test");
        });
        int withoutLookup = startServer(Map.of("remote.host.lookup", false));
        seen.clear();
        greet(withoutLookup);
        // the server's own probe that it listens may be counted too: every connection is seen without a name
        assertEquals(java.util.Set.of("[127.0.0.1]"), new java.util.HashSet<>(seen));
    }

    private static void greet(int port) {
        try (SmtpClient client = new SmtpClient(port)) {
            client.reply();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
