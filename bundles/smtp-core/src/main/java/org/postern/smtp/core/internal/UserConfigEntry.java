package org.postern.smtp.core.internal;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-user config items from ConfigAdmin, the default answer to {@code userConfig(user, item)} after the
 * {@code user_config} plugins: one factory configuration of {@code org.postern.smtp.userconfig} per user or
 * domain, with the key {@code user} ({@code bob@example.org}) or {@code domain} ({@code example.org}) and any
 * items, e.g. {@code spam_threshold = 5}. A user's own entry wins over its domain's.
 */
@Component(service = UserConfigEntry.class, configurationPid = UserConfigEntry.FACTORY_PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
public final class UserConfigEntry {
    public static final String FACTORY_PID = "org.postern.smtp.userconfig";
    private static final Logger LOG = LoggerFactory.getLogger(UserConfigEntry.class);
    private static final Set<String> NOT_ITEMS = Set.of("user", "domain", "service.pid", "service.factoryPid",
            "component.name", "component.id", "felix.fileinstall.filename", "service.bundleLocation");

    private volatile String user;
    private volatile String domain;
    private volatile Map<String, List<String>> items = Map.of();

    @Activate
    @Modified
    void configure(Map<String, Object> properties) {
        Object userValue = properties.get("user");
        Object domainValue = properties.get("domain");
        user = userValue == null ? null : userValue.toString().trim().toLowerCase(Locale.ROOT);
        domain = domainValue == null ? null : domainValue.toString().trim().toLowerCase(Locale.ROOT);
        if (user == null && domain == null) {
            LOG.error("configuration {} ({}): key 'user' or 'domain' is missing; this entry applies to nobody",
                    FACTORY_PID, properties.get("service.pid"));
        }
        items = properties.entrySet().stream().filter(e -> !NOT_ITEMS.contains(e.getKey()))
                .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, e -> ConfigItems.values(e.getValue())));
    }

    /** 2 when this entry is the user's own, 1 when it is the user's domain's, 0 when it does not apply. */
    int specificity(String address, String userDomain) {
        if (user != null && user.equals(address)) {
            return 2;
        }
        return domain != null && domain.equals(userDomain) ? 1 : 0;
    }

    List<String> get(String item) {
        return items.getOrDefault(item, List.of());
    }
}
