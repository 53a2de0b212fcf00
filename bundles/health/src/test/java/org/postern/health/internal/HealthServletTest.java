package org.postern.health.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.servlet.http.HttpServletResponse;
import org.apache.felix.hc.api.FormattingResultLog;
import org.apache.felix.hc.api.Result;
import org.apache.felix.hc.api.execution.HealthCheckExecutionOptions;
import org.apache.felix.hc.api.execution.HealthCheckExecutionResult;
import org.apache.felix.hc.api.execution.HealthCheckExecutor;
import org.apache.felix.hc.api.execution.HealthCheckSelector;
import org.junit.jupiter.api.Test;

class HealthServletTest {
    /** What the servlet set on its response. */
    private static final class Response {
        final Map<String, Object> set = new HashMap<>();
        final StringWriter body = new StringWriter();
        final HttpServletResponse proxy = (HttpServletResponse) Proxy.newProxyInstance(HealthServletTest.class.getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, (proxy, method, arguments) -> {
                    switch (method.getName()) {
                        case "getWriter" -> {
                            return new PrintWriter(body, true);
                        }
                        case "setHeader" -> set.put(method.getName() + " " + arguments[0], arguments[1]);
                        default -> set.put(method.getName(), arguments[0]);
                    }
                    return null;
                });
    }

    @Test
    void getRunsTheChecksTaggedPosternAndAnswersTheirReport() throws Exception {
        FormattingResultLog spool = new FormattingResultLog();
        spool.warn("spool folder /var/spool/postern: 90 MB free, below spool.min.free.mb 100");
        List<HealthCheckExecutionResult> results = List.of(Fakes.executed("Postern spool", new Result(spool)));
        Map<String, Object> asked = new HashMap<>();
        HealthCheckExecutor executor = new HealthCheckExecutor() {
            @Override
            public List<HealthCheckExecutionResult> execute(HealthCheckSelector selector) {
                throw new AssertionError("the executor's own timeout would report a silent peer as WARN only");
            }

            @Override
            public List<HealthCheckExecutionResult> execute(HealthCheckSelector selector, HealthCheckExecutionOptions options) {
                asked.put("tags", selector.tags());
                asked.put("timeout", options.getOverrideGlobalTimeout());
                return results;
            }
        };
        Response response = new Response();
        new HealthServlet(executor, 503, 5000).doGet(null, response.proxy);
        assertArrayEquals(new String[] {"postern"}, (String[]) asked.get("tags"));
        assertEquals(5000, asked.get("timeout"));
        assertEquals(503, response.set.get("setStatus"));
        assertEquals("text/plain", response.set.get("setContentType"));
        assertEquals("UTF-8", response.set.get("setCharacterEncoding"));
        assertEquals("no-store", response.set.get("setHeader Cache-Control"));
        assertEquals("WARN Postern spool: spool folder /var/spool/postern: 90 MB free, below spool.min.free.mb 100\n",
                response.body.toString());
    }
}
