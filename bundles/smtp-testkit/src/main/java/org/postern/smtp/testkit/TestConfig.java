package org.postern.smtp.testkit;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Map;

/**
 * A component's configuration annotation as Declarative Services builds it, for unit tests:
 * {@code TestConfig.of(Dnsbl.Config.class, Map.of("reject_type", "temp"))}. Values are given by configuration
 * key, as in a {@code .cfg} file ({@code reject_type} for the method {@code reject__type()}, {@code timeout.ms}
 * for {@code timeout_ms()}); the other methods answer their defaults.
 */
public final class TestConfig {
    private TestConfig() {
    }

    public static <A> A of(Class<A> type, Map<String, ?> values) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, arguments) -> {
            if (method.getName().equals("annotationType") && method.getParameterCount() == 0) {
                return type;
            }
            if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == arguments[0];
                    default -> type.getSimpleName() + values;
                };
            }
            String key = key(method);
            return values.containsKey(key) ? values.get(key) : method.getDefaultValue();
        }));
    }

    /** The configuration key of an annotation method, by the DS specification's rules (112.8.2.2). */
    static String key(Method method) {
        String name = method.getName();
        StringBuilder key = new StringBuilder();
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (name.startsWith("$$", i)) {
                key.append('$');
                i++;
            } else if (name.startsWith("$_$", i)) {
                key.append('-');
                i += 2;
            } else if (c == '$') {
                continue;
            } else if (name.startsWith("__", i)) {
                key.append('_');
                i++;
            } else if (c == '_') {
                key.append('.');
            } else {
                key.append(c);
            }
        }
        return key.toString();
    }
}
