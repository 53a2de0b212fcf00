package org.postern.health.internal;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.felix.hc.api.Result;
import org.apache.felix.hc.api.execution.HealthCheckExecutionResult;
import org.apache.felix.hc.api.execution.HealthCheckMetadata;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;

/** Stand-ins for the framework's and the health check executor's objects, as much of them as this bundle uses. */
final class Fakes {
    private static long serviceIds;

    private Fakes() {
    }

    /** A service with these properties (and a service id of its own). */
    @SuppressWarnings("unchecked")
    static <S> ServiceReference<S> reference(Map<String, Object> properties) {
        Map<String, Object> withId = new HashMap<>(properties);
        withId.put(Constants.SERVICE_ID, ++serviceIds);
        return (ServiceReference<S>) Proxy.newProxyInstance(Fakes.class.getClassLoader(), new Class<?>[] {ServiceReference.class},
                (proxy, method, arguments) -> switch (method.getName()) {
                    case "getProperty" -> withId.get((String) arguments[0]);
                    case "getPropertyKeys" -> withId.keySet().toArray(new String[0]);
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == arguments[0];
                    case "toString" -> "ServiceReference" + withId;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    /** What the executor answers for a check named {@code name} that gave {@code result}. */
    static HealthCheckExecutionResult executed(String name, Result result) {
        HealthCheckMetadata metadata = new HealthCheckMetadata(reference(Map.of("hc.name", name, "hc.tags", HealthSettings.TAG)));
        return new HealthCheckExecutionResult() {
            @Override
            public Result getHealthCheckResult() {
                return result;
            }

            @Override
            public long getElapsedTimeInMs() {
                return 1;
            }

            @Override
            public Date getFinishedAt() {
                return new Date();
            }

            @Override
            public boolean hasTimedOut() {
                return false;
            }

            @Override
            public HealthCheckMetadata getHealthCheckMetadata() {
                return metadata;
            }
        };
    }

    /** A service this bundle registered: its object, its properties as last set, and whether it is still there. */
    static final class Registered {
        final Object service;
        Map<String, Object> properties;
        boolean unregistered;

        Registered(Object service, Dictionary<String, ?> properties) {
            this.service = service;
            this.properties = copy(properties);
        }
    }

    /** A bundle context that keeps what is registered through it. */
    static final class Context {
        final List<Registered> registered = new ArrayList<>();
        final BundleContext bundleContext = (BundleContext) Proxy.newProxyInstance(Fakes.class.getClassLoader(),
                new Class<?>[] {BundleContext.class}, (proxy, method, arguments) -> {
                    if (!method.getName().equals("registerService")) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    Registered service = new Registered(arguments[1], (Dictionary<String, ?>) arguments[2]);
                    registered.add(service);
                    return registration(service);
                });

        List<Registered> live() {
            return registered.stream().filter(service -> !service.unregistered).toList();
        }
    }

    private static ServiceRegistration<?> registration(Registered service) {
        return (ServiceRegistration<?>) Proxy.newProxyInstance(Fakes.class.getClassLoader(), new Class<?>[] {ServiceRegistration.class},
                (proxy, method, arguments) -> {
                    if (service.unregistered) {
                        throw new IllegalStateException("already unregistered");
                    }
                    switch (method.getName()) {
                        case "setProperties" -> service.properties = copy((Dictionary<String, ?>) arguments[0]);
                        case "unregister" -> service.unregistered = true;
                        default -> throw new UnsupportedOperationException(method.getName());
                    }
                    return null;
                });
    }

    private static Map<String, Object> copy(Dictionary<String, ?> properties) {
        Map<String, Object> copy = new HashMap<>();
        for (String key : Collections.list(properties.keys())) {
            copy.put(key, properties.get(key));
        }
        return copy;
    }
}
