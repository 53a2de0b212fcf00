package org.postern.smtp.core.internal;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.postern.smtp.core.internal.netty.SmtpServer.Listener;
import org.postern.smtp.core.internal.netty.SmtpServer.ListenerSettings;
import org.postern.smtp.core.internal.protocol.SessionSettings;

/**
 * The server's listeners, from {@code listen} entries {@code [name=]host:port} (unnamed ones are called
 * {@value #DEFAULT_NAME}), and each named listener's own settings, from keys {@code listener.<name>.<key>}
 * that override the server-wide key of the same name for that listener's connections.
 */
final class ListenerConfig {
    static final String DEFAULT_NAME = "default";
    private static final String PREFIX = "listener.";
    private static final Set<String> PER_LISTENER_KEYS = Set.of("tls.before.auth", "auth.required", "tls.implicit", "proxy.protocol");

    private ListenerConfig() {
    }

    static List<Listener> listeners(String[] listen) {
        List<Listener> listeners = new ArrayList<>();
        for (String entry : listen) {
            for (String item : entry.split(",")) {
                if (item.isBlank()) {
                    continue;
                }
                int equals = item.indexOf('=');
                String name = equals < 0 ? DEFAULT_NAME : item.substring(0, equals).trim();
                if (name.isEmpty() || !name.matches("[A-Za-z0-9_-]+")) {
                    throw new IllegalArgumentException("key 'listen': '" + item.trim() + "' has a bad listener name"
                            + " (letters, digits, '-' and '_')");
                }
                listeners.add(new Listener(name, parseAddress(item.substring(equals + 1))));
            }
        }
        if (listeners.isEmpty()) {
            throw new IllegalArgumentException("key 'listen': no address given");
        }
        return listeners;
    }

    /**
     * The settings of each listener that overrides any; the others use {@code base}. A listener's own keys:
     * {@code tls.before.auth}, {@code auth.required} (MAIL only after AUTH), {@code tls.implicit} (TLS from the
     * first byte, RFC 8314) and {@code proxy.protocol} (a PROXY protocol header first, from a proxy in front).
     */
    static Map<String, ListenerSettings> listenerSettings(Map<String, ?> properties, List<Listener> listeners,
            SessionSettings base) {
        Map<String, ListenerSettings> byListener = new HashMap<>();
        for (Map.Entry<String, ?> property : properties.entrySet()) {
            String key = property.getKey();
            if (!key.startsWith(PREFIX)) {
                continue;
            }
            String rest = key.substring(PREFIX.length());
            int dot = rest.indexOf('.');
            String name = dot < 0 ? rest : rest.substring(0, dot);
            String setting = dot < 0 ? "" : rest.substring(dot + 1);
            if (listeners.stream().noneMatch(listener -> listener.name().equals(name))) {
                throw new IllegalArgumentException("key '" + key + "': no listener is named '" + name + "' in 'listen'");
            }
            if (!PER_LISTENER_KEYS.contains(setting)) {
                throw new IllegalArgumentException("key '" + key + "': '" + setting + "' cannot be set per listener; "
                        + "these can: " + PER_LISTENER_KEYS);
            }
            ListenerSettings current = byListener.getOrDefault(name, new ListenerSettings(base, false, false));
            boolean value = parseBoolean(key, String.valueOf(property.getValue()));
            SessionSettings.AuthPolicy auth = current.settings().auth();
            byListener.put(name, switch (setting) {
                case "tls.before.auth" -> new ListenerSettings(current.settings().withAuth(auth.withTlsBeforeAuth(value)),
                        current.implicitTls(), current.proxyProtocol());
                case "auth.required" -> new ListenerSettings(current.settings().withAuth(auth.withRequired(value)),
                        current.implicitTls(), current.proxyProtocol());
                case "tls.implicit" -> new ListenerSettings(current.settings(), value, current.proxyProtocol());
                default -> new ListenerSettings(current.settings(), current.implicitTls(), value);
            });
        }
        return byListener;
    }

    private static boolean parseBoolean(String key, String value) {
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new IllegalArgumentException("key '" + key + "': '" + value + "' is neither true nor false");
        };
    }

    static InetSocketAddress parseAddress(String listen) {
        String text = listen.trim();
        int colon = text.lastIndexOf(':');
        try {
            String host = text.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            InetSocketAddress address = new InetSocketAddress(host, Integer.parseInt(text.substring(colon + 1)));
            if (address.isUnresolved()) {
                throw new IllegalArgumentException("unknown host");
            }
            return address;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("key 'listen': '" + listen.trim() + "' is not host:port (" + e.getMessage() + ")");
        }
    }
}
