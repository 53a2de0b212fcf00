package org.postern.smtp.itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.composite;
import static org.ops4j.pax.exam.CoreOptions.frameworkStartLevel;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.mavenBundle;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import javax.inject.Inject;
import org.junit.After;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;

/**
 * Boots Felix with SCR, ConfigAdmin, Netty and the Postern bundles; starts the server on a free loopback
 * port; registers test plugins as whiteboard services, exactly as a plugin bundle's DS component would.
 */
public abstract class PosternTestSupport {
    private static final String BUNDLES = System.getProperty("postern.bundles");
    private static final String VERSION = System.getProperty("postern.version");

    @Inject
    protected BundleContext context;

    @Inject
    protected ConfigurationAdmin configAdmin;

    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();

    @Configuration
    public Option[] config() {
        return options(
                systemProperty("org.slf4j.simpleLogger.defaultLogLevel").value("warn"),
                mavenBundle("org.ow2.asm", "asm").versionAsInProject().startLevel(1),
                mavenBundle("org.ow2.asm", "asm-commons").versionAsInProject().startLevel(1),
                mavenBundle("org.ow2.asm", "asm-tree").versionAsInProject().startLevel(1),
                mavenBundle("org.ow2.asm", "asm-analysis").versionAsInProject().startLevel(1),
                mavenBundle("org.ow2.asm", "asm-util").versionAsInProject().startLevel(1),
                mavenBundle("org.apache.aries.spifly", "org.apache.aries.spifly.dynamic.bundle").versionAsInProject().startLevel(1),
                mavenBundle("org.slf4j", "slf4j-api").versionAsInProject().startLevel(1),
                mavenBundle("org.slf4j", "slf4j-simple").versionAsInProject().startLevel(1),
                mavenBundle("org.osgi", "org.osgi.util.function").versionAsInProject(),
                mavenBundle("org.osgi", "org.osgi.util.promise").versionAsInProject(),
                mavenBundle("org.osgi", "org.osgi.service.component").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.scr").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.configadmin").versionAsInProject(),
                mavenBundle("io.netty", "netty-common").versionAsInProject(),
                mavenBundle("io.netty", "netty-buffer").versionAsInProject(),
                mavenBundle("io.netty", "netty-resolver").versionAsInProject(),
                mavenBundle("io.netty", "netty-transport").versionAsInProject(),
                mavenBundle("io.netty", "netty-transport-native-unix-common").versionAsInProject(),
                mavenBundle("io.netty", "netty-codec-base").versionAsInProject(),
                mavenBundle("io.netty", "netty-codec-haproxy").versionAsInProject(),
                mavenBundle("io.netty", "netty-handler").versionAsInProject(),
                mavenBundle("org.bouncycastle", "bcprov-jdk18on").versionAsInProject(),
                mavenBundle("org.bouncycastle", "bcutil-jdk18on").versionAsInProject(),
                mavenBundle("org.bouncycastle", "bcpkix-jdk18on").versionAsInProject(),
                postern("smtp-api"),
                postern("smtp-core"),
                frameworkStartLevel(10),
                junitBundles(),
                cleanCaches());
    }

    /** The server's DNS resolver and what it needs, plus the testkit (for {@code Dnsmasq}). */
    protected static Option dnsResolver() {
        return composite(mavenBundle("io.netty", "netty-codec-dns").versionAsInProject(),
                mavenBundle("io.netty", "netty-resolver-dns").versionAsInProject(),
                postern("dns-resolver"), postern("smtp-testkit"));
    }

    /** Points the server's resolver at a test DNS server, e.g. {@code dnsmasq.address()}, with a 2 s timeout. */
    protected void useNameserver(String address) throws IOException {
        useNameserver(address, 2000);
    }

    /**
     * Points the server's resolver at a DNS server (a silent one to test timeouts) with this timeout, and at it
     * alone: not at this machine's /etc/hosts.
     */
    protected void useNameserver(String address, long timeoutMillis) throws IOException {
        configAdmin.getConfiguration("org.postern.dns", "?").update(new Hashtable<>(Map.of(
                "nameservers", address, "timeout.ms", timeoutMillis, "hosts.file", false)));
    }

    /** A bundle of this build, by its module name under bundles/. */
    protected static Option postern(String module) {
        File jar = new File(BUNDLES, module + "/target/" + module + "-" + VERSION + ".jar");
        return bundle(jar.toURI().toString());
    }

    /**
     * Configures and starts the server on a free port with the given settings; returns the port. Without TLS keys
     * among the settings there is no TLS (no self-signed certificate), so tests speak plain SMTP as before.
     */
    protected int startServer(Map<String, Object> settings) throws Exception {
        int port = freePort();
        Hashtable<String, Object> properties = new Hashtable<>(settings);
        properties.put("listen", "127.0.0.1:" + port);
        properties.putIfAbsent("me", "test.postern");
        properties.putIfAbsent("tls.self.signed", false);
        configAdmin.getConfiguration("org.postern.smtp.server", "?").update(properties);
        awaitListening(port);
        return port;
    }

    /** Sets qpsmtpd-style config items (the PID org.postern.smtp.config). */
    protected void configItems(Map<String, Object> items) throws IOException {
        configAdmin.getConfiguration("org.postern.smtp.config", "?").update(new Hashtable<>(items));
    }

    /**
     * Registers a test plugin that answers one hook with the given function, as a whiteboard service with
     * postern.hook, postern.hook.order and postern.plugin properties.
     */
    protected ServiceRegistration<?> hook(HookType hook, int order, Function<HookContext, HookResult> answer) {
        return hook(hook, order, "test-" + hook.hookName() + "-" + order, answer);
    }

    protected ServiceRegistration<?> hook(HookType hook, int order, String name, Function<HookContext, HookResult> answer) {
        Class<?> type = hook.hookInterface();
        Object service = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            switch (method.getName()) {
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "toString":
                    return name;
                default:
                    return answer.apply((HookContext) args[0]);
            }
        });
        Dictionary<String, Object> properties = new Hashtable<>();
        properties.put("postern.hook", hook.hookName());
        properties.put("postern.hook.order", order);
        properties.put("postern.plugin", name);
        ServiceRegistration<?> registration = context.registerService(type.getName(), service, properties);
        registrations.add(registration);
        return registration;
    }

    @After
    public void unregisterTestPlugins() {
        for (ServiceRegistration<?> registration : registrations) {
            try {
                registration.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the test unregistered it itself
            }
        }
        registrations.clear();
    }

    protected static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    protected static void awaitListening(int port) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("server did not listen on port " + port + " within 20 s");
    }

    /** Waits until a plugin's hook service is registered (its component activated with its configuration). */
    protected void awaitPlugin(String name) throws InterruptedException {
        await("plugin " + name, () -> {
            try {
                return context.getServiceReferences((String) null, "(postern.plugin=" + name + ")") != null;
            } catch (org.osgi.framework.InvalidSyntaxException e) {
                throw new IllegalArgumentException(e);
            }
        });
    }

    /** Polls a condition until it holds or the deadline passes. */
    protected static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
