package org.postern.metrics.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PrometheusServletTest {
    /** What Prometheus 2 and 3 send by default. */
    private static final String PROMETHEUS_ACCEPT = "application/openmetrics-text;version=1.0.0,"
            + "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    /** What Prometheus sends with native histograms on: protobuf first, which this endpoint does not offer. */
    private static final String PROTOBUF_FIRST = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
            + "encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    @AfterEach
    void close() {
        registry.close();
    }

    /** The response to a GET with this Accept header (none for null): headers by name, and the body as "body". */
    private Map<String, String> get(String accept) throws Exception {
        Map<String, String> response = new HashMap<>();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        ServletOutputStream out = new ServletOutputStream() {
            @Override
            public void write(int b) {
                body.write(b);
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setWriteListener(WriteListener listener) {
                throw new UnsupportedOperationException();
            }
        };
        HttpServletRequest request = (HttpServletRequest) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, method, arguments) -> switch (method.getName()) {
                    case "getHeader" -> "Accept".equalsIgnoreCase((String) arguments[0]) ? accept : null;
                    case "getMethod" -> "GET";
                    case "getProtocol" -> "HTTP/1.1";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        HttpServletResponse servletResponse = (HttpServletResponse) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, (proxy, method, arguments) -> switch (method.getName()) {
                    case "setStatus" -> response.put("status", arguments[0].toString());
                    case "setContentType" -> response.put("Content-Type", (String) arguments[0]);
                    case "setContentLength" -> response.put("Content-Length", arguments[0].toString());
                    case "getOutputStream" -> out;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        new PrometheusServlet(registry).service(request, servletResponse);
        response.put("body", body.toString(StandardCharsets.UTF_8));
        return response;
    }

    @Test
    void answersInPrometheusTextFormatByDefault() throws Exception {
        Counter.builder("postern.transactions").tags("listener", "default", "result", "queued").register(registry).increment();
        Map<String, String> response = get(null);
        assertEquals("200", response.get("status"));
        assertEquals("text/plain; version=0.0.4; charset=utf-8", response.get("Content-Type"));
        assertTrue(response.get("body").contains("postern_transactions_total{listener=\"default\",result=\"queued\"} 1.0\n"),
                response.get("body"));
        assertEquals(Integer.toString(response.get("body").getBytes(StandardCharsets.UTF_8).length), response.get("Content-Length"));
    }

    @Test
    void answersInOpenMetricsWhenAskedForIt() throws Exception {
        Counter.builder("postern.transactions").tags("listener", "default", "result", "queued").register(registry).increment();
        Map<String, String> response = get(PROMETHEUS_ACCEPT);
        assertEquals("application/openmetrics-text; version=1.0.0; charset=utf-8", response.get("Content-Type"));
        assertTrue(response.get("body").contains("postern_transactions_total{listener=\"default\",result=\"queued\"} 1.0\n"),
                response.get("body"));
        assertTrue(response.get("body").endsWith("# EOF\n"), response.get("body"));
    }

    @Test
    void aClientAskingForProtobufFirstGetsText() throws Exception {
        Map<String, String> response = get(PROTOBUF_FIRST);
        assertEquals("200", response.get("status"));
        assertEquals("text/plain; version=0.0.4; charset=utf-8", response.get("Content-Type"));
    }

    @Test
    void thePathMustBeOneTheWhiteboardTakes() {
        assertEquals("/metrics", MetricsEndpoint.path("/metrics"));
        assertEquals("/postern/metrics", MetricsEndpoint.path(" /postern/metrics "));
        assertEquals("/metrics", MetricsEndpoint.path("metrics"));
        assertEquals("/metrics", MetricsEndpoint.path("/*"));
    }
}
