package org.postern.smtp.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Proxy;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.osgi.framework.ServiceReference;

class HookRegistryTest {
    private static ServiceReference<?> reference(Map<String, Object> properties) {
        return (ServiceReference<?>) Proxy.newProxyInstance(ServiceReference.class.getClassLoader(),
                new Class<?>[] {ServiceReference.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getProperty")) {
                        return properties.get((String) args[0]);
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    void factoryInstancesOfAPluginAreToldApart() {
        assertEquals("badmailfrom", HookRegistry.pluginName(reference(Map.of("postern.plugin", "badmailfrom",
                "service.pid", "org.postern.smtp.plugin.badmailfrom"))));
        assertEquals("badmailfrom:second", HookRegistry.pluginName(reference(Map.of("postern.plugin", "badmailfrom",
                "service.pid", "org.postern.smtp.plugin.badmailfrom~second",
                "service.factoryPid", "org.postern.smtp.plugin.badmailfrom"))));
        assertEquals("badmailfrom:5f1c-77", HookRegistry.pluginName(reference(Map.of("postern.plugin", "badmailfrom",
                "service.pid", "org.postern.smtp.plugin.badmailfrom.5f1c-77",
                "service.factoryPid", "org.postern.smtp.plugin.badmailfrom"))));
    }
}
