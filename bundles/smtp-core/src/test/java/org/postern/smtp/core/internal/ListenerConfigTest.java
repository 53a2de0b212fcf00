package org.postern.smtp.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postern.smtp.core.internal.netty.SmtpServer.Listener;
import org.postern.smtp.core.internal.netty.SmtpServer.ListenerSettings;
import org.postern.smtp.core.internal.protocol.SessionSettings;

class ListenerConfigTest {
    private static final SessionSettings BASE = new SessionSettings("mx.test", "ready", 1000, 10, 512, 4096, 20,
            SessionSettings.BareLineEndings.NORMALIZE, Path.of("spool"), 1024,
            new SessionSettings.AuthPolicy(true, Duration.ofSeconds(1), Duration.ofSeconds(16)));

    @Test
    void listenEntriesMayBeNamed() {
        List<Listener> listeners = ListenerConfig.listeners(new String[] {"127.0.0.1:25, submission=127.0.0.1:587", "[::1]:2525"});
        assertEquals(List.of(new Listener("default", new InetSocketAddress("127.0.0.1", 25)),
                new Listener("submission", new InetSocketAddress("127.0.0.1", 587)),
                new Listener("default", new InetSocketAddress("::1", 2525))), listeners);
    }

    @Test
    void aNamedListenerOverridesTlsBeforeAuthAndTheOthersKeepTheServersSetting() {
        List<Listener> listeners = ListenerConfig.listeners(new String[] {"mx=127.0.0.1:25", "submission=127.0.0.1:587"});
        Map<String, ListenerSettings> own = ListenerConfig.listenerSettings(
                Map.of("listener.submission.tls.before.auth", "false", "me", "ignored"), listeners, BASE);
        assertEquals(Map.of("submission", new ListenerSettings(BASE.withAuth(BASE.auth().withTlsBeforeAuth(false)), false, false)), own);
        assertFalse(own.get("submission").settings().auth().tlsBeforeAuth());
        assertTrue(BASE.auth().tlsBeforeAuth());
    }

    @Test
    void aSubmissionListenerMayRequireAuthAndSpeakTlsFromTheStart() {
        List<Listener> listeners = ListenerConfig.listeners(new String[] {"mx=127.0.0.1:25, submissions=127.0.0.1:465"});
        Map<String, ListenerSettings> own = ListenerConfig.listenerSettings(Map.of("listener.submissions.auth.required", "true",
                "listener.submissions.tls.implicit", "yes"), listeners, BASE);
        assertEquals(Map.of("submissions", new ListenerSettings(BASE.withAuth(BASE.auth().withRequired(true)), true, false)), own);
        assertFalse(BASE.auth().required());
    }

    @Test
    void aListenerBehindAProxyTakesItsHeaderAlsoBeforeImplicitTls() {
        List<Listener> listeners = ListenerConfig.listeners(new String[] {"mx=127.0.0.1:25, proxied=127.0.0.1:10465"});
        Map<String, ListenerSettings> own = ListenerConfig.listenerSettings(Map.of("listener.proxied.proxy.protocol", "true",
                "listener.proxied.tls.implicit", "true"), listeners, BASE);
        assertEquals(Map.of("proxied", new ListenerSettings(BASE, true, true)), own);
    }

    @Test
    void mistakesNameTheKey() {
        List<Listener> listeners = ListenerConfig.listeners(new String[] {"mx=127.0.0.1:25"});
        assertEquals("key 'listener.mta.tls.before.auth': no listener is named 'mta' in 'listen'", assertThrows(IllegalArgumentException.class,
                () -> ListenerConfig.listenerSettings(Map.of("listener.mta.tls.before.auth", "false"), listeners, BASE)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ListenerConfig.listenerSettings(Map.of("listener.mx.max.errors", "3"), listeners, BASE)).getMessage()
                .startsWith("key 'listener.mx.max.errors': 'max.errors' cannot be set per listener"));
        assertEquals("key 'listener.mx.tls.before.auth': 'maybe' is neither true nor false", assertThrows(IllegalArgumentException.class,
                () -> ListenerConfig.listenerSettings(Map.of("listener.mx.tls.before.auth", "maybe"), listeners, BASE)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ListenerConfig.listeners(new String[] {"m x=127.0.0.1:25"}))
                .getMessage().contains("bad listener name"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ListenerConfig.listeners(new String[] {"mx=127.0.0.1"}))
                .getMessage().startsWith("key 'listen': '127.0.0.1' is not host:port"));
    }
}
