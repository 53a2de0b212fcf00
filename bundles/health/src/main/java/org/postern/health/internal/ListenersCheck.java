package org.postern.health.internal;

import java.net.InetSocketAddress;
import java.util.List;
import org.apache.felix.hc.api.FormattingResultLog;
import org.apache.felix.hc.api.HealthCheck;
import org.apache.felix.hc.api.Result;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.postern.smtp.api.monitor.ServerStatus;

/**
 * Whether every configured listener is bound: CRITICAL naming those that are not, and CRITICAL when the server does
 * not run at all (no {@link ServerStatus}: its configuration was refused, or the core is stopped).
 */
@Component(configurationPid = HealthSettings.PID,
        property = {HealthCheck.NAME + "=Postern listeners", HealthCheck.TAGS + "=" + HealthSettings.TAG})
// the bundle's one configuration, designated once here for all its components
@Designate(ocd = HealthSettings.class)
public final class ListenersCheck implements HealthCheck {
    static final String NOT_RUNNING = "the SMTP server is not running (no ServerStatus service): see its log for the configuration it refused";

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile ServerStatus server;

    @Override
    public Result execute() {
        return check(server);
    }

    static Result check(ServerStatus server) {
        FormattingResultLog log = new FormattingResultLog();
        if (server == null) {
            log.critical(NOT_RUNNING);
            return new Result(log);
        }
        List<ServerStatus.Listener> listeners = server.listeners();
        if (listeners.isEmpty()) {
            log.critical("no listener is configured");
        }
        for (ServerStatus.Listener listener : listeners) {
            if (listener.bound() == null) {
                log.critical("{} is not listening on {}", listener.name(), listener.configured());
            } else {
                log.info("{} listening on {}", listener.name(), address(listener.bound()));
            }
        }
        return new Result(log);
    }

    private static String address(InetSocketAddress bound) {
        String host = bound.getAddress() == null ? bound.getHostString() : bound.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + bound.getPort();
    }
}
