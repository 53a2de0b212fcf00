package org.postern.health.internal;

import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.felix.hc.api.HealthCheck;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.postern.smtp.api.monitor.PeerCheck;

/**
 * A health check for each {@link PeerCheck} a plugin registers, named after its peer and tagged {@code postern} and
 * {@code peers}: registered when the plugin's service comes, renamed when the plugin's configuration changes, and
 * gone with it.
 */
@Component(configurationPid = HealthSettings.PID)
public final class PeerChecks {
    static final String NAME_PREFIX = "Postern peer: ";
    static final String PEERS_TAG = "peers";

    private final BundleContext context;
    private final Duration timeout;
    private final Map<ServiceReference<PeerCheck>, ServiceRegistration<HealthCheck>> checks = new ConcurrentHashMap<>();

    @Activate
    public PeerChecks(BundleContext context, HealthSettings settings) {
        this.context = context;
        this.timeout = peerTimeout(settings);
    }

    /** {@code peer.timeout.seconds}, at least a second. */
    static Duration peerTimeout(HealthSettings settings) {
        return Duration.ofSeconds(Math.max(1, settings.peer_timeout_seconds()));
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addPeer(PeerCheck peer, ServiceReference<PeerCheck> reference) {
        checks.put(reference, context.registerService(HealthCheck.class, new PeerHealthCheck(peer, timeout), properties(peer)));
    }

    /** The plugin's service properties changed, as they do with its configuration: the peer may have moved. */
    void updatedPeer(PeerCheck peer, ServiceReference<PeerCheck> reference) {
        ServiceRegistration<HealthCheck> check = checks.get(reference);
        if (check != null) {
            check.setProperties(properties(peer));
        }
    }

    void removePeer(PeerCheck peer, ServiceReference<PeerCheck> reference) {
        ServiceRegistration<HealthCheck> check = checks.remove(reference);
        if (check != null) {
            unregister(check);
        }
    }

    @Deactivate
    void deactivate() {
        checks.values().forEach(PeerChecks::unregister);
        checks.clear();
    }

    static Dictionary<String, Object> properties(PeerCheck peer) {
        Dictionary<String, Object> properties = new Hashtable<>();
        properties.put(HealthCheck.NAME, NAME_PREFIX + peer.peer());
        properties.put(HealthCheck.TAGS, new String[] {HealthSettings.TAG, PEERS_TAG});
        return properties;
    }

    private static void unregister(ServiceRegistration<HealthCheck> check) {
        try {
            check.unregister();
        } catch (IllegalStateException alreadyGone) {
            // this bundle is stopping, and the framework took its services down first
        }
    }
}
