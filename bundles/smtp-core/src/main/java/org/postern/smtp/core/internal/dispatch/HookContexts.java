package org.postern.smtp.core.internal.dispatch;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.postern.smtp.api.*;

/** The context objects handed to plugins, one small class per context type. */
public final class HookContexts {
    private HookContexts() {
    }

    /** What every context shares: the session, its current transaction, the plugin services and the client. */
    public record Scope(Session session, Transaction transaction, PluginSupport support, ClientConversation client) {
        /** A scope with no client to talk to: for tests of what plugins get. */
        public Scope(Session session, Transaction transaction, PluginSupport support) {
            this(session, transaction, support, NO_CLIENT);
        }
    }

    /** The client of a context that has none. */
    private static final ClientConversation NO_CLIENT = new ClientConversation() {
        @Override
        public CompletionStage<Void> respond(int code, List<String> lines) {
            return CompletableFuture.failedFuture(new IllegalStateException("no client here"));
        }

        @Override
        public CompletionStage<String> readLine() {
            return CompletableFuture.failedFuture(new IllegalStateException("no client here"));
        }
    };

    /** The plugin call a context is handed to: what its {@link HookContext#commit()} asks, whose its log lines are. */
    interface PluginCall {
        boolean claimCommit();

        RegisteredHook plugin();

        HookType hook();
    }

    /** A transaction whose message may have been thrown away (its client left, or it was reset). */
    public interface Discardable {
        boolean discarded();
    }

    static class Base implements HookContext {
        final Scope shared;
        /** The call the plugin that sees this context runs in; set by the runner before each plugin. */
        private volatile PluginCall call;

        Base(Scope shared) {
            this.shared = shared;
        }

        void runningIn(PluginCall pluginCall) {
            call = pluginCall;
        }

        @Override
        public boolean commit() {
            if (shared.transaction() instanceof Discardable message && message.discarded()) {
                return false;
            }
            PluginCall current = call;
            return current == null || current.claimCommit();
        }

        @Override
        public Session session() {
            return shared.session();
        }

        @Override
        public Transaction transaction() {
            return shared.transaction();
        }

        @Override
        public List<String> config(String item) {
            return shared.support().config(this, item);
        }

        @Override
        public List<String> userConfig(Address user, String item) {
            return shared.support().userConfig(this, user, item);
        }

        @Override
        public void log(LogLevel level, String message) {
            shared.support().log(this, level, message);
        }

        @Override
        public ClientConversation client() {
            return shared.client();
        }
    }

    public static HookContext plain(Scope scope) {
        return new Base(scope);
    }

    public static PreConnectionContext preConnection(Scope scope, int fromRemoteIp, int connections) {
        final class Ctx extends Base implements PreConnectionContext {
            Ctx() {
                super(scope);
            }

            @Override
            public int connectionsFromRemoteIp() {
                return fromRemoteIp;
            }

            @Override
            public int connections() {
                return connections;
            }
        }
        return new Ctx();
    }

    /** HELO and EHLO: the extensions plugins offer. */
    private abstract static class Hello extends Base {
        private final List<String> offered = new java.util.concurrent.CopyOnWriteArrayList<>();

        Hello(Scope scope) {
            super(scope);
        }

        public void offerCapability(String capability) {
            offered.add(capability.strip());
        }
    }

    /** The extensions the plugins offered in a HELO/EHLO context. */
    public static List<String> offeredCapabilities(HookContext hello) {
        return List.copyOf(((Hello) hello).offered);
    }

    public static HeloContext helo(Scope scope, String host, List<String> arguments) {
        final class Ctx extends Hello implements HeloContext {
            Ctx() {
                super(scope);
            }

            @Override
            public String host() {
                return host;
            }

            @Override
            public List<String> arguments() {
                return arguments;
            }
        }
        return new Ctx();
    }

    public static ParseContext parse(Scope scope, String command, String line) {
        final class Ctx extends Base implements ParseContext {
            Ctx() {
                super(scope);
            }

            @Override
            public String command() {
                return command;
            }

            @Override
            public String line() {
                return line;
            }
        }
        return new Ctx();
    }

    public static AddressPreContext addressPre(Scope scope, String address, Map<String, String> parameters) {
        final class Ctx extends Base implements AddressPreContext {
            Ctx() {
                super(scope);
            }

            @Override
            public String address() {
                return address;
            }

            @Override
            public Map<String, String> parameters() {
                return parameters;
            }
        }
        return new Ctx();
    }

    /** MAIL and RCPT: the parameters, and those a plugin took on. */
    private abstract static class Envelope extends Base {
        private final Map<String, String> parameters;
        private final Set<String> accepted = ConcurrentHashMap.newKeySet();

        Envelope(Scope scope, Map<String, String> parameters) {
            super(scope);
            this.parameters = parameters;
        }

        public Map<String, String> parameters() {
            return parameters;
        }

        public void acceptParameter(String name) {
            accepted.add(name.toLowerCase(Locale.ROOT));
        }
    }

    /** The parameters of a MAIL or RCPT context that no plugin took on, among those given. */
    public static Set<String> parametersNotAccepted(HookContext envelope, Set<String> candidates) {
        Set<String> left = new TreeSet<>(candidates);
        left.removeAll(((Envelope) envelope).accepted);
        return left;
    }

    public static MailContext mail(Scope scope, Address sender, Map<String, String> parameters) {
        final class Ctx extends Envelope implements MailContext {
            Ctx() {
                super(scope, parameters);
            }

            @Override
            public Address sender() {
                return sender;
            }
        }
        return new Ctx();
    }

    public static RcptContext rcpt(Scope scope, Address recipient, Map<String, String> parameters) {
        final class Ctx extends Envelope implements RcptContext {
            Ctx() {
                super(scope, parameters);
            }

            @Override
            public Address recipient() {
                return recipient;
            }
        }
        return new Ctx();
    }

    public static ReceivedLineContext receivedLine(Scope scope, String smtpType, String authInfo, String tlsInfo) {
        final class Ctx extends Base implements ReceivedLineContext {
            Ctx() {
                super(scope);
            }

            @Override
            public String smtpType() {
                return smtpType;
            }

            @Override
            public String authInfo() {
                return authInfo;
            }

            @Override
            public String tlsInfo() {
                return tlsInfo;
            }
        }
        return new Ctx();
    }

    public static CommandContext command(Scope scope, String command, List<String> arguments) {
        final class Ctx extends Base implements CommandContext {
            Ctx() {
                super(scope);
            }

            @Override
            public String command() {
                return command;
            }

            @Override
            public List<String> arguments() {
                return arguments;
            }
        }
        return new Ctx();
    }

    public static ConfigContext config(HookContext asking, String item) {
        final class Ctx extends Base implements ConfigContext {
            Ctx() {
                super(scopeOf(asking));
            }

            @Override
            public String item() {
                return item;
            }
        }
        return new Ctx();
    }

    public static UserConfigContext userConfig(HookContext asking, Address user, String item) {
        final class Ctx extends Base implements UserConfigContext {
            Ctx() {
                super(scopeOf(asking));
            }

            @Override
            public Address user() {
                return user;
            }

            @Override
            public String item() {
                return item;
            }
        }
        return new Ctx();
    }

    public static LoggingContext logging(HookContext asking, LogLevel level, String hookName, String pluginName, String text) {
        final class Ctx extends Base implements LoggingContext {
            Ctx() {
                super(scopeOf(asking));
            }

            @Override
            public LogLevel level() {
                return level;
            }

            @Override
            public String hookName() {
                return hookName;
            }

            @Override
            public String pluginName() {
                return pluginName;
            }

            @Override
            public String text() {
                return text;
            }
        }
        return new Ctx();
    }

    public static ResultContext result(HookContext asking, String pluginName, HookType hook, HookResult result) {
        final class Ctx extends Base implements ResultContext {
            Ctx() {
                super(scopeOf(asking));
            }

            @Override
            public String pluginName() {
                return pluginName;
            }

            @Override
            public String hookName() {
                return hook.hookName();
            }

            @Override
            public HookResult result() {
                return result;
            }
        }
        return new Ctx();
    }

    public static AuthContext auth(Scope scope, String mechanism, String user, String clearPassword,
            String hashedPassword, String ticket) {
        final class Ctx extends Base implements AuthContext {
            Ctx() {
                super(scope);
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
        return new Ctx();
    }

    /** The plugin call a context was handed to, or null (a context built for config or logging lookups). */
    static PluginCall callOf(HookContext ctx) {
        return ctx instanceof Base base ? base.call : null;
    }

    /** The plugin services of a core context; null for another implementation (a test's). */
    static PluginSupport supportOf(HookContext ctx) {
        return ctx instanceof Base base ? base.shared.support() : null;
    }

    private static Scope scopeOf(HookContext ctx) {
        if (ctx instanceof Base base) {
            return base.shared;
        }
        throw new IllegalArgumentException("not a core context: " + ctx);
    }
}
