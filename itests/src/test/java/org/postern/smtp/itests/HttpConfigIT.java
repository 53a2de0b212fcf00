package org.postern.smtp.itests;

import static org.ops4j.pax.exam.CoreOptions.composite;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Hashtable;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/** rcpt_ok's rcpthosts served by http_config from a real HTTP server on loopback, inside the framework. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HttpConfigIT extends PosternTestSupport {

    @Override
    @Configuration
    public Option[] config() {
        return new Option[] {composite(super.config()), postern("plugin-rcpt-ok"), postern("plugin-http-config")};
    }

    @Test
    public void rcpthostsComeFromHttp() throws Exception {
        AtomicReference<String> rcpthosts = new AtomicReference<>("served.example\n");
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/postern/", exchange -> {
            boolean known = exchange.getRequestURI().getPath().equals("/postern/rcpthosts");
            byte[] body = rcpthosts.get().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(known ? 200 : 404, known ? body.length : -1);
            if (known) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        http.start();
        try {
            configAdmin.getConfiguration("org.postern.smtp.plugin.http_config", "?").update(new Hashtable<>(Map.of(
                    "urls", "http://127.0.0.1:" + http.getAddress().getPort() + "/postern/{item}", "cache.seconds", 1,
                    "allow.http", true)));
            int port = startServer(Map.of());
            await("rcpthosts from HTTP", () -> {
                try (SmtpClient client = new SmtpClient(port)) {
                    client.reply();
                    client.command("HELO client.example");
                    client.command("MAIL FROM:<a@example.org>");
                    return client.command("RCPT TO:<b@served.example>").startsWith("250");
                } catch (IOException e) {
                    return false;
                }
            });
            rcpthosts.set("other.example\n");
            await("the cached answer to expire", () -> {
                try (SmtpClient client = new SmtpClient(port)) {
                    client.reply();
                    client.command("HELO client.example");
                    client.command("MAIL FROM:<a@example.org>");
                    return client.command("RCPT TO:<b@other.example>").startsWith("250")
                            && client.command("RCPT TO:<b@served.example>").equals("550 5.7.1 Relaying denied");
                } catch (IOException e) {
                    return false;
                }
            });
        } finally {
            http.stop(0);
        }
    }
}
