package org.postern.health.internal;

import java.util.Dictionary;
import java.util.Hashtable;
import javax.servlet.Servlet;
import org.apache.felix.hc.api.execution.HealthCheckExecutor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts the {@link HealthServlet} at {@code path} on the HTTP whiteboard (OSGi HTTP Whiteboard 1.1, javax.servlet,
 * which both Felix HTTP Jetty and Karaf's Pax Web serve). The servlet is registered here rather than being the
 * component's service because its pattern comes from the configuration key {@code path}.
 */
@Component(configurationPid = HealthSettings.PID)
public final class HealthEndpoint {
    static final String SERVLET_PATTERN = "osgi.http.whiteboard.servlet.pattern";
    static final String SERVLET_NAME = "osgi.http.whiteboard.servlet.name";
    /** What the executor gets beyond a peer's timeout, for the checks that wait for their peer's answer. */
    private static final int EXECUTOR_MARGIN_MILLIS = 2000;
    private static final Logger LOG = LoggerFactory.getLogger(HealthEndpoint.class);

    private final ServiceRegistration<Servlet> registration;

    @Activate
    public HealthEndpoint(BundleContext context, HealthSettings settings,
            @Reference(name = "executor") HealthCheckExecutor executor) {
        int warnStatus = settings.http_status_warn();
        if (warnStatus < 200 || warnStatus > 599) {
            LOG.error("configuration {}: key 'http.status.warn' must be an HTTP status from 200 to 599, not {}; using {}",
                    HealthSettings.PID, warnStatus, HealthReport.OK);
            warnStatus = HealthReport.OK;
        }
        int timeoutMillis = (int) PeerChecks.peerTimeout(settings).toMillis() + EXECUTOR_MARGIN_MILLIS;
        String path = settings.path().strip();
        Dictionary<String, Object> properties = new Hashtable<>();
        properties.put(SERVLET_PATTERN, path.startsWith("/") ? path : "/" + path);
        properties.put(SERVLET_NAME, "postern-health");
        registration = context.registerService(Servlet.class, new HealthServlet(executor, warnStatus, timeoutMillis), properties);
    }

    @Deactivate
    void deactivate() {
        registration.unregister();
    }
}
