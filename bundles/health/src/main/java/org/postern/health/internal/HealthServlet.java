package org.postern.health.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.apache.felix.hc.api.execution.HealthCheckExecutionOptions;
import org.apache.felix.hc.api.execution.HealthCheckExecutor;
import org.apache.felix.hc.api.execution.HealthCheckSelector;

/** Runs the checks tagged {@code postern} for each GET and answers with their {@link HealthReport}, as text. */
final class HealthServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    private final transient HealthCheckExecutor executor;
    private final transient HealthCheckExecutionOptions options;
    private final int warnStatus;

    /**
     * @param timeoutMillis how long the executor waits for the checks: longer than a peer's probe may take, so that a
     *     silent daemon is reported CRITICAL by its check and not merely WARN as the executor's own timeout would
     */
    HealthServlet(HealthCheckExecutor executor, int warnStatus, int timeoutMillis) {
        this.executor = executor;
        this.options = new HealthCheckExecutionOptions().setOverrideGlobalTimeout(timeoutMillis);
        this.warnStatus = warnStatus;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        HealthReport report = HealthReport.of(executor.execute(HealthCheckSelector.tags(HealthSettings.TAG), options), warnStatus);
        response.setStatus(report.status());
        response.setContentType("text/plain");
        response.setCharacterEncoding(StandardCharsets.UTF_8.name());
        response.setHeader("Cache-Control", "no-store");
        response.getWriter().write(report.body());
    }
}
