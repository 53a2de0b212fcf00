package org.postern.health.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.felix.hc.api.HealthCheck;
import org.junit.jupiter.api.Test;
import org.osgi.framework.ServiceReference;
import org.postern.smtp.api.monitor.PeerCheck;
import org.postern.smtp.testkit.TestConfig;

class PeerChecksTest {
    /** A peer that moves when told to, as a plugin's does when its configuration changes. */
    private static final class MovablePeer implements PeerCheck {
        volatile String where;

        MovablePeer(String where) {
            this.where = where;
        }

        @Override
        public String peer() {
            return where;
        }

        @Override
        public CompletionStage<String> probe(Duration timeout) {
            return CompletableFuture.completedFuture("PONG from " + where);
        }
    }

    private final Fakes.Context context = new Fakes.Context();
    private final PeerChecks checks = new PeerChecks(context.bundleContext, TestConfig.of(HealthSettings.class, Map.of()));

    @Test
    void eachPeerGetsAHealthCheckNamedAfterItWhileItIsThere() {
        MovablePeer spamd = new MovablePeer("spamd 127.0.0.1:783");
        MovablePeer redis = new MovablePeer("Redis redis://127.0.0.1:6379");
        ServiceReference<PeerCheck> spamdReference = Fakes.reference(Map.of());
        ServiceReference<PeerCheck> redisReference = Fakes.reference(Map.of());
        checks.addPeer(spamd, spamdReference);
        checks.addPeer(redis, redisReference);
        assertEquals(List.of("Postern peer: spamd 127.0.0.1:783", "Postern peer: Redis redis://127.0.0.1:6379"),
                context.live().stream().map(check -> check.properties.get(HealthCheck.NAME)).toList());
        assertArrayEquals(new String[] {"postern", "peers"}, (String[]) context.live().get(0).properties.get(HealthCheck.TAGS));
        assertEquals("OK [OK spamd 127.0.0.1:783 answered: PONG from spamd 127.0.0.1:783]",
                ResultText.of(((HealthCheck) context.live().get(0).service).execute()));

        spamd.where = "spamd /run/spamd.sock";
        checks.updatedPeer(spamd, spamdReference);
        assertEquals("Postern peer: spamd /run/spamd.sock", context.live().get(0).properties.get(HealthCheck.NAME));

        checks.removePeer(spamd, spamdReference);
        assertEquals(List.of("Postern peer: Redis redis://127.0.0.1:6379"),
                context.live().stream().map(check -> check.properties.get(HealthCheck.NAME)).toList());
        checks.deactivate();
        assertEquals(List.of(), context.live());
        checks.removePeer(redis, redisReference);
        assertTrue(context.registered.stream().allMatch(check -> check.unregistered));
    }
}
