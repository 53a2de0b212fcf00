package org.postern.health.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.monitor.ServerStatus.Listener;

class ListenersCheckTest {
    private static final Listener SMTP = new Listener("default", "127.0.0.1:2525", new InetSocketAddress("127.0.0.1", 2525));
    private static final Listener SUBMISSION = new Listener("submission", "[::1]:587", new InetSocketAddress("::1", 587));

    private static String check(Listener... listeners) {
        return ResultText.of(ListenersCheck.check(new FakeServerStatus(List.of(listeners), Path.of("/tmp"))));
    }

    @Test
    void everyListenerBoundIsOkWithItsAddress() {
        assertEquals("OK [OK default listening on 127.0.0.1:2525 | OK submission listening on [0:0:0:0:0:0:0:1]:587]",
                check(SMTP, SUBMISSION));
    }

    @Test
    void aListenerThatIsNotBoundIsCriticalAndNamed() {
        Listener unbound = new Listener("relay", "192.0.2.1:25", null);
        assertEquals("CRITICAL [OK default listening on 127.0.0.1:2525 | CRITICAL relay is not listening on 192.0.2.1:25]",
                check(SMTP, unbound));
    }

    @Test
    void noListenerAtAllIsCritical() {
        assertEquals("CRITICAL [CRITICAL no listener is configured]", check());
    }

    @Test
    void noServerStatusMeansTheServerIsNotRunning() {
        assertEquals("CRITICAL [CRITICAL " + ListenersCheck.NOT_RUNNING + "]", ResultText.of(ListenersCheck.check(null)));
    }
}
