package org.postern.metrics.internal;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * Answers a scrape with every meter: in OpenMetrics when the client's Accept header asks for it (Prometheus
 * does), else in Prometheus' text format 0.0.4. Prometheus' protobuf format is not offered, so a client asking for
 * it first gets one of the text formats it lists after it.
 */
final class PrometheusServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    static final String OPENMETRICS = OpenMetricsTextFormatWriter.CONTENT_TYPE;
    static final String PROMETHEUS_TEXT = PrometheusTextFormatWriter.CONTENT_TYPE;

    private final transient PrometheusMeterRegistry registry;

    PrometheusServlet(PrometheusMeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String accept = request.getHeader("Accept");
        String contentType = accept != null && accept.contains("application/openmetrics-text") ? OPENMETRICS
                : PROMETHEUS_TEXT;
        byte[] body = registry.scrape(contentType).getBytes(StandardCharsets.UTF_8);
        response.setStatus(HttpServletResponse.SC_OK);
        response.setContentType(contentType);
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }
}
