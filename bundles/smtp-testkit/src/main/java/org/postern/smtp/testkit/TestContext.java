package org.postern.smtp.testkit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.AuthContext;
import org.postern.smtp.api.ConfigContext;
import org.postern.smtp.api.HeloContext;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.LoggingContext;
import org.postern.smtp.api.MailContext;
import org.postern.smtp.api.RcptContext;

/**
 * A hook context for unit tests: config items from {@link #withConfig(String, String...)}, log lines captured in
 * {@link #logged()}, a scripted {@link #client()}. {@link #rcpt(String)}, {@link #mail(String)} and
 * {@link #logging(LogLevel, String, String, String)} give the contexts of those hooks.
 */
public class TestContext implements HookContext {
    private final TestSession session = new TestSession();
    private final TestTransaction transaction = new TestTransaction();
    private final Map<String, List<String>> config = new HashMap<>();
    private final Map<String, List<String>> userConfig = new HashMap<>();
    private final List<String> logged = new ArrayList<>();
    private final TestClient client = new TestClient();
    private final List<String> offeredCapabilities = new ArrayList<>();
    private boolean commitAllowed = true;
    private final java.util.Set<String> acceptedParameters = new java.util.TreeSet<>();

    /**
     * A context at the end of DATA: this message (header and body, CRLF line ends) from {@code <a@example.org>} to
     * these recipients, {@code <b@example.org>} when none are given; for content plugins' tests.
     */
    public static TestContext forMessage(String wire, String... recipients) {
        TestContext ctx = new TestContext();
        ctx.transaction().sender("<a@example.org>").message(wire);
        for (String recipient : recipients.length == 0 ? new String[] {"<b@example.org>"} : recipients) {
            ctx.transaction().recipient(recipient);
        }
        return ctx;
    }

    /** Makes {@link #commit()} answer false, as when the core gave up waiting for the plugin. */
    public TestContext withCommitRefused() {
        commitAllowed = false;
        return this;
    }

    @Override
    public boolean commit() {
        return commitAllowed;
    }

    public TestContext withConfig(String item, String... values) {
        config.put(item, List.of(values));
        return this;
    }

    /** Sets a per-user config item, as a user_config plugin would answer it. */
    public TestContext withUserConfig(String address, String item, String... values) {
        userConfig.put(address + "\n" + item, List.of(values));
        return this;
    }

    /** The MAIL and RCPT parameters plugins took on through {@code acceptParameter}. */
    public java.util.Set<String> acceptedParameters() {
        return acceptedParameters;
    }

    /** The log lines so far, as {@code LEVEL message}. */
    public List<String> logged() {
        return logged;
    }

    @Override
    public TestSession session() {
        return session;
    }

    /** The scripted client: what it will send, and what the plugin replied. */
    @Override
    public TestClient client() {
        return client;
    }

    @Override
    public TestTransaction transaction() {
        return transaction;
    }

    @Override
    public List<String> config(String item) {
        return config.getOrDefault(item, List.of());
    }

    @Override
    public List<String> userConfig(Address user, String item) {
        return userConfig.getOrDefault(user.address() + "\n" + item, List.of());
    }

    @Override
    public void log(LogLevel level, String message) {
        logged.add(level + " " + message);
    }

    /** The context of the rcpt hook for this recipient path, e.g. {@code "<bob@example.org>"}. */
    public RcptContext rcpt(String path) {
        Address recipient = parse(path);
        final class Rcpt extends Forwarding implements RcptContext {
            Rcpt() {
                super(TestContext.this);
            }

            @Override
            public Address recipient() {
                return recipient;
            }

            @Override
            public Map<String, String> parameters() {
                return Map.of();
            }

            @Override
            public void acceptParameter(String name) {
                acceptedParameters.add(name);
            }
        }
        return new Rcpt();
    }

    /**
     * The context of the logging hook for one line of this context's session: {@code plugin} empty for the core's
     * own lines, {@code hook} empty outside a hook.
     */
    public LoggingContext logging(LogLevel level, String plugin, String hook, String text) {
        final class Logging extends Forwarding implements LoggingContext {
            Logging() {
                super(TestContext.this);
            }

            @Override
            public LogLevel level() {
                return level;
            }

            @Override
            public String hookName() {
                return hook;
            }

            @Override
            public String pluginName() {
                return plugin;
            }

            @Override
            public String text() {
                return text;
            }
        }
        return new Logging();
    }

    /**
     * The context of the helo and ehlo hooks for this host name and extra words. A capability the plugin offers is
     * recorded in {@link #offeredCapabilities()}.
     */
    public HeloContext helo(String host, String... arguments) {
        final class Helo extends Forwarding implements HeloContext {
            Helo() {
                super(TestContext.this);
            }

            @Override
            public String host() {
                return host;
            }

            @Override
            public List<String> arguments() {
                return List.of(arguments);
            }

            @Override
            public void offerCapability(String capability) {
                offeredCapabilities.add(capability);
            }
        }
        return new Helo();
    }

    /** The capabilities plugins offered through {@link #helo} contexts, in order. */
    public List<String> offeredCapabilities() {
        return offeredCapabilities;
    }

    /** The context of the mail hook for this sender path. */
    public MailContext mail(String path) {
        Address sender = parse(path);
        final class Mail extends Forwarding implements MailContext {
            Mail() {
                super(TestContext.this);
            }

            @Override
            public Address sender() {
                return sender;
            }

            @Override
            public Map<String, String> parameters() {
                return Map.of();
            }

            @Override
            public void acceptParameter(String name) {
                acceptedParameters.add(name);
            }
        }
        return new Mail();
    }

    /**
     * The context of the auth hooks: {@code clearPassword} for PLAIN and LOGIN, or {@code hashedPassword} and
     * {@code ticket} for CRAM-MD5 (the others null).
     */
    public AuthContext auth(String mechanism, String user, String clearPassword, String hashedPassword, String ticket) {
        final class Auth extends Forwarding implements AuthContext {
            Auth() {
                super(TestContext.this);
            }

            @Override
            public String mechanism() {
                return mechanism;
            }

            @Override
            public String user() {
                return user;
            }

            @Override
            public Optional<String> clearPassword() {
                return Optional.ofNullable(clearPassword);
            }

            @Override
            public Optional<String> hashedPassword() {
                return Optional.ofNullable(hashedPassword);
            }

            @Override
            public Optional<String> ticket() {
                return Optional.ofNullable(ticket);
            }
        }
        return new Auth();
    }

    /** The context of the config hook asking for this item. */
    public ConfigContext configItem(String item) {
        final class ConfigLookup extends Forwarding implements ConfigContext {
            ConfigLookup() {
                super(TestContext.this);
            }

            @Override
            public String item() {
                return item;
            }
        }
        return new ConfigLookup();
    }

    private static Address parse(String path) {
        return Address.parse(path).orElseThrow(() -> new IllegalArgumentException("not a path: " + path));
    }

    /** Shares session, transaction, config and log with the TestContext that made it. */
    private abstract static class Forwarding implements HookContext {
        private final TestContext shared;

        Forwarding(TestContext shared) {
            this.shared = shared;
        }

        @Override
        public TestSession session() {
            return shared.session();
        }

        @Override
        public TestTransaction transaction() {
            return shared.transaction();
        }

        @Override
        public List<String> config(String item) {
            return shared.config(item);
        }

        @Override
        public List<String> userConfig(Address user, String item) {
            return shared.userConfig(user, item);
        }

        @Override
        public void log(LogLevel level, String message) {
            shared.log(level, message);
        }

        @Override
        public boolean commit() {
            return shared.commit();
        }

        @Override
        public TestClient client() {
            return shared.client();
        }
    }
}
