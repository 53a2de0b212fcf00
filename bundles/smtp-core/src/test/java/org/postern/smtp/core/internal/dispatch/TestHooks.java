package org.postern.smtp.core.internal.dispatch;

import java.net.InetSocketAddress;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.Session;
import org.postern.smtp.api.Transaction;

/** Builds hook chains from lambdas, as the registry would from services, for unit tests. */
public final class TestHooks {
    private final List<Map.Entry<HookType, RegisteredHook>> entries = new ArrayList<>();
    private long nextId = 1;

    /** Adds a plugin that keeps only its log lines at this level and above. */
    public TestHooks addLogging(HookType hook, String name, int order, LogLevel logLevel, Object service) {
        entries.add(new SimpleImmutableEntry<>(hook, new RegisteredHook(name, service, order, 0, nextId++, null, logLevel)));
        return this;
    }

    public TestHooks add(HookType hook, String name, int order, Object service) {
        entries.add(new SimpleImmutableEntry<>(hook, new RegisteredHook(name, service, order, 0, nextId++, null, null)));
        return this;
    }

    /** The whole message (header and body) as stored, one octet per char. */
    public static String message(Transaction transaction) {
        try (java.io.InputStream in = transaction.message()) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public HookChains chains() {
        return HookChains.of(entries);
    }

    /** A timer for hook runners in tests; its daemon thread needs no shutdown. */
    public static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "test-hook-timer");
        thread.setDaemon(true);
        return thread;
    });

    /** Plugin services that answer config from nothing and log nowhere. */
    public static final PluginSupport NO_SUPPORT = new PluginSupport() {
        @Override
        public List<String> config(HookContext ctx, String item) {
            return List.of();
        }

        @Override
        public List<String> userConfig(HookContext ctx, Address user, String item) {
            return List.of();
        }

        @Override
        public void log(HookContext ctx, LogLevel level, String message) {
        }

        @Override
        public boolean hasLoggingPlugins() {
            return false;
        }

        @Override
        public void coreLog(HookContext ctx, org.slf4j.Logger logger, LogLevel level, String text, Throwable error) {
            CoreLog.write(logger, level, "session {}: {}", ctx.session().id(), text, error);
        }
    };

    /** A context for runner tests: a session with an id, nothing else. */
    public static HookContext context() {
        return HookContexts.plain(scope());
    }

    /** A session with an id and addresses, no transaction, no plugin services. */
    public static HookContexts.Scope scope() {
        Session session = (Session) java.lang.reflect.Proxy.newProxyInstance(Session.class.getClassLoader(),
                new Class<?>[] {Session.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "id" -> "unit.1";
                    case "remoteAddress", "localAddress" -> new InetSocketAddress("127.0.0.1", 25);
                    default -> null;
                });
        return new HookContexts.Scope(session, (Transaction) null, NO_SUPPORT);
    }

}
