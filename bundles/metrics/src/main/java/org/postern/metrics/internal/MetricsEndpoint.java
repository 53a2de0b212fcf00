package org.postern.metrics.internal;

import java.util.Dictionary;
import java.util.Hashtable;
import javax.servlet.Servlet;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Prometheus endpoint: a servlet on the HTTP whiteboard (javax, Whiteboard 1.1, which Felix HTTP and Karaf's Pax
 * Web both serve) at the configured path. It registers the servlet itself because the whiteboard pattern is a
 * service property, and DS cannot derive one from the {@code path} key; a changed configuration registers it anew.
 */
@Component(service = {}, configurationPid = ServerMetrics.PID, immediate = true)
public final class MetricsEndpoint {
    static final String DEFAULT_PATH = "/metrics";
    static final String SERVLET_PATTERN = "osgi.http.whiteboard.servlet.pattern";
    private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);

    private final ServiceRegistration<Servlet> registration;

    @Activate
    public MetricsEndpoint(@Reference ServerMetrics metrics, ServerMetrics.Config config, BundleContext context) {
        String path = path(config.path());
        Dictionary<String, Object> properties = new Hashtable<>();
        properties.put(SERVLET_PATTERN, path);
        properties.put("osgi.http.whiteboard.servlet.name", "postern-metrics");
        registration = context.registerService(Servlet.class, new PrometheusServlet(metrics.prometheus()), properties);
        LOG.info("Prometheus metrics at {} on the HTTP service", path);
    }

    @Deactivate
    void deactivate() {
        registration.unregister();
    }

    /** The configured path, or the default when it is no absolute path the whiteboard would take. */
    static String path(String configured) {
        String path = configured.strip();
        if (path.startsWith("/") && !path.contains("*") && !path.contains(" ")) {
            return path;
        }
        LOG.error("configuration {}: key 'path': '{}' is no path starting with /; using {}", ServerMetrics.PID, configured, DEFAULT_PATH);
        return DEFAULT_PATH;
    }
}
