package org.postern.smtp.core.internal;

import java.time.Duration;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.util.tracker.ServiceTracker;
import org.osgi.util.tracker.ServiceTrackerCustomizer;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.core.internal.dispatch.HookChains;
import org.postern.smtp.core.internal.dispatch.RegisteredHook;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whiteboard: tracks every service with a {@code postern.hook} property and keeps an immutable snapshot
 * of the plugin chains, rebuilt on each arrival, departure or property change (a new order, say). Sessions
 * read the snapshot once per command, so a change takes effect at the next command.
 */
@Component(service = HookRegistry.class, immediate = true)
public final class HookRegistry {
    public static final String HOOK = "postern.hook";
    public static final String ORDER = "postern.hook.order";
    public static final String TIMEOUT = "postern.hook.timeout";
    /** A plugin's own log level, qpsmtpd's {@code loglevel} plugin argument. */
    public static final String LOG_LEVEL = "postern.log.level";
    public static final String PLUGIN = "postern.plugin";
    /** The listeners a plugin runs on, by name; none: every listener. */
    public static final String LISTENERS = "postern.listeners";
    static final int DEFAULT_ORDER = 1000;

    private static final Logger LOG = LoggerFactory.getLogger(HookRegistry.class);

    private final Map<Long, List<Map.Entry<HookType, RegisteredHook>>> byServiceId = new ConcurrentHashMap<>();
    private final Map<Long, String> bundles = new ConcurrentHashMap<>();
    private final ServiceTracker<Object, Object> tracker;
    private volatile HookChains chains = HookChains.EMPTY;

    @Activate
    public HookRegistry(BundleContext context) throws InvalidSyntaxException {
        tracker = new ServiceTracker<>(context, context.createFilter("(" + HOOK + "=*)"), new Customizer(context));
        tracker.open();
    }

    @Deactivate
    void deactivate() {
        tracker.close();
    }

    public HookChains chains() {
        return chains;
    }

    /** The bundle (symbolic name and version) that registered a hook service. */
    public String bundleOf(long serviceId) {
        return bundles.getOrDefault(serviceId, "?");
    }

    private final class Customizer implements ServiceTrackerCustomizer<Object, Object> {
        private final BundleContext context;

        Customizer(BundleContext context) {
            this.context = context;
        }

        @Override
        public Object addingService(ServiceReference<Object> reference) {
            Object service = context.getService(reference);
            if (service == null) {
                return null;
            }
            register(reference, service);
            return service;
        }

        @Override
        public void modifiedService(ServiceReference<Object> reference, Object service) {
            register(reference, service);
        }

        @Override
        public void removedService(ServiceReference<Object> reference, Object service) {
            long id = (Long) reference.getProperty(Constants.SERVICE_ID);
            bundles.remove(id);
            if (byServiceId.remove(id) != null) {
                LOG.info("plugin {} removed", pluginName(reference));
                rebuild();
            }
            context.ungetService(reference);
        }
    }

    private synchronized void register(ServiceReference<Object> reference, Object service) {
        long id = (Long) reference.getProperty(Constants.SERVICE_ID);
        String plugin = pluginName(reference);
        int order = intProperty(reference, ORDER, DEFAULT_ORDER, plugin);
        int ranking = intProperty(reference, Constants.SERVICE_RANKING, 0, plugin);
        int timeoutSeconds = intProperty(reference, TIMEOUT, 0, plugin);
        Duration timeout = timeoutSeconds > 0 ? Duration.ofSeconds(timeoutSeconds) : null;
        Set<String> listeners = stringsOf(reference.getProperty(LISTENERS)).stream()
                .map(String::trim).filter(name -> !name.isEmpty()).collect(Collectors.toUnmodifiableSet());
        RegisteredHook registered = new RegisteredHook(plugin, service, order, ranking, id, timeout,
                logLevel(reference.getProperty(LOG_LEVEL), plugin), listeners);
        List<Map.Entry<HookType, RegisteredHook>> entries = new ArrayList<>();
        for (String name : stringsOf(reference.getProperty(HOOK))) {
            HookType hook = HookType.forName(name).orElse(null);
            if (hook == null) {
                LOG.error("plugin {} registers unknown hook '{}'; known hooks: see HookType", plugin, name);
            } else if (!hook.hookInterface().isInstance(service)) {
                LOG.error("plugin {} registers hook '{}' but does not implement {}", plugin, name,
                        hook.hookInterface().getSimpleName());
            } else {
                entries.add(new SimpleImmutableEntry<>(hook, registered));
            }
        }
        byServiceId.put(id, entries);
        bundles.put(id, reference.getBundle().getSymbolicName() + " " + reference.getBundle().getVersion());
        LOG.info("plugin {} at order {} answers {}{}", plugin, order,
                entries.stream().map(e -> e.getKey().hookName()).toList(),
                listeners.isEmpty() ? "" : " on listeners " + listeners);
        rebuild();
    }

    private synchronized void rebuild() {
        List<Map.Entry<HookType, RegisteredHook>> all = new ArrayList<>();
        byServiceId.values().forEach(all::addAll);
        chains = HookChains.of(all);
    }

    /**
     * The plugin's name; an instance configured by a factory configuration (qpsmtpd's {@code plugin:N}) adds its
     * own part of the PID, {@code badmailfrom:second} for {@code org.postern.smtp.plugin.badmailfrom~second}, so
     * instances are told apart in logs, chains and counters.
     */
    static String pluginName(ServiceReference<?> reference) {
        Object name = reference.getProperty(PLUGIN);
        String base = name != null ? name.toString() : Objects.toString(reference.getProperty("component.name"),
                reference.getBundle().getSymbolicName());
        Object factoryPid = reference.getProperty("service.factoryPid");
        Object pid = reference.getProperty(Constants.SERVICE_PID);
        if (factoryPid == null || pid == null || !pid.toString().startsWith(factoryPid.toString())) {
            return base;
        }
        String instance = pid.toString().substring(factoryPid.toString().length()).replaceFirst("^[~.]", "");
        return instance.isEmpty() ? base : base + ":" + instance;
    }

    /** Reads an integer property that may arrive as a number or, from a .cfg file, as a string. */
    /**
     * A plugin's own log level: a name (debug … emerg) or qpsmtpd's number (7 LOGDEBUG … 0 LOGEMERG); none,
     * or one that is neither, keeps every line.
     */
    static LogLevel logLevel(Object value, String plugin) {
        if (value == null) {
            return null;
        }
        Optional<LogLevel> level = LogLevel.parse(value.toString());
        if (level.isPresent()) {
            return level.get();
        }
        LOG.error("plugin {}: {}={} is not a log level (debug, info, notice, warn, error, crit, alert, emerg or 0-7); all lines kept",
                plugin, LOG_LEVEL, value);
        return null;
    }

    private static int intProperty(ServiceReference<?> reference, String key, int fallback, String plugin) {
        Object value = reference.getProperty(key);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Number number) {
            return number.intValue();
        }
        try {
            return Integer.parseInt(value.toString().trim());
        } catch (NumberFormatException e) {
            LOG.error("plugin {}: property {}='{}' is not a whole number; using {}", plugin, key, value, fallback);
            return fallback;
        }
    }

    private static List<String> stringsOf(Object value) {
        if (value instanceof String text) {
            return List.of(text.split("\\s*,\\s*"));
        }
        if (value instanceof String[] array) {
            return List.of(array);
        }
        if (value instanceof Collection<?> collection) {
            return collection.stream().map(Object::toString).toList();
        }
        return List.of();
    }
}
