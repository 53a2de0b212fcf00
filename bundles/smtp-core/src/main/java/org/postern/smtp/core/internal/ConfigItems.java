package org.postern.smtp.core.internal;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;

/**
 * The ConfigAdmin-backed answer to {@code config(item)}: each property of the PID
 * {@code org.postern.smtp.config} is one qpsmtpd config item, its values separated by commas or newlines
 * (e.g. {@code rcpthosts = example.org, .example.net}). Changes apply at once.
 */
@Component(service = ConfigItems.class, configurationPid = ConfigItems.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
public final class ConfigItems {
    public static final String PID = "org.postern.smtp.config";
    private static final Set<String> FRAMEWORK_KEYS = Set.of("service.pid", "service.factoryPid", "component.name",
            "component.id", "felix.fileinstall.filename", "service.bundleLocation");

    private volatile Map<String, List<String>> items = Map.of();

    @Activate
    @Modified
    void configure(Map<String, Object> properties) {
        items = properties.entrySet().stream()
                .filter(e -> !FRAMEWORK_KEYS.contains(e.getKey()))
                .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, e -> values(e.getValue())));
    }

    /** The values of an item; empty when the item is not configured. */
    public List<String> get(String item) {
        return items.getOrDefault(item, List.of());
    }

    static List<String> values(Object value) {
        if (value instanceof String[] array) {
            return Arrays.stream(array).map(String::strip).filter(s -> !s.isEmpty()).toList();
        }
        if (value instanceof Collection<?> collection) {
            return collection.stream().map(Object::toString).map(String::strip).filter(s -> !s.isEmpty()).toList();
        }
        return Arrays.stream(value.toString().split("[,\\n]")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
