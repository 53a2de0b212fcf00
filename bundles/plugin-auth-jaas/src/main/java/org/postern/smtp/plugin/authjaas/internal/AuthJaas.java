package org.postern.smtp.plugin.authjaas.internal;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AccountException;
import javax.security.auth.login.AccountNotFoundException;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.CredentialException;
import javax.security.auth.login.FailedLoginException;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;
import org.postern.smtp.api.AuthContext;
import org.postern.smtp.api.AuthHook;
import org.postern.smtp.api.BlockingCalls;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Checks AUTH PLAIN and LOGIN credentials against a JAAS realm: a {@link LoginContext} of that name logs in with
 * the user name and password. In Karaf the realms are Karaf's own ({@code karaf}: etc/users.properties; others from
 * {@code jaas:} commands or blueprint); elsewhere the JVM's login configuration names them
 * ({@code java.security.auth.login.config}). {@code login()} blocks, so it runs on this component's few threads and
 * the hook answers later.
 */
@Component(service = AuthHook.class, configurationPid = AuthJaas.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = AuthJaas.Config.class)
@PosternPlugin("auth_jaas")
@PosternHook({"auth-plain", "auth-login"})
@HookOrder(120)
public final class AuthJaas implements AuthHook {
    static final String PID = "org.postern.smtp.plugin.auth_jaas";
    /** Logins at a time: a realm answers in milliseconds, and AUTH is rare next to mail. */
    static final int THREADS = 4;
    /** Logins that may wait for a thread; beyond them AUTH gets 454 at once instead of waiting out its timeout. */
    static final int QUEUED = 64;

    @ObjectClassDefinition(name = "Postern plugin: auth_jaas",
            description = "Checks AUTH PLAIN and LOGIN credentials against a JAAS realm")
    public @interface Config {
        @AttributeDefinition(description = "The JAAS realm (login configuration name) to log in to")
        String realm() default "karaf";

        @AttributeDefinition(description = "Seconds a login may take; then 454. Keep it under the core's hook.timeout")
        int timeout() default 10;

        @AttributeDefinition(description = "The user name given to the realm: full (as the client sent it) or local "
                + "(the part before the last '@')", options = {@Option(value = "full"), @Option(value = "local")})
        String username() default "full";
    }

    private final String realm;
    private final int timeoutSeconds;
    private final boolean localPart;
    /** null: the JVM's current login configuration, looked up at each login (Karaf installs its own). */
    private final Configuration configuration;
    private final BlockingCalls logins = new BlockingCalls("auth-jaas", THREADS, QUEUED);

    @Activate
    public AuthJaas(Config config) {
        this(config, null);
    }

    AuthJaas(Config config, Configuration configuration) {
        this.realm = config.realm().strip();
        this.timeoutSeconds = config.timeout();
        this.localPart = switch (config.username().strip()) {
            case "full" -> false;
            case "local" -> true;
            default -> throw new IllegalArgumentException("configuration " + PID + ": key 'username' must be full or local, not '"
                    + config.username() + "'");
        };
        this.configuration = configuration;
    }

    /** Interrupts the logins under way; those queued are dropped, and their sessions get 454 at the timeout. */
    @Deactivate
    void deactivate() {
        logins.close();
    }

    @Override
    public HookResult onAuth(AuthContext ctx) {
        // an empty password never reaches the realm: behind it an LDAP module may take it for an anonymous bind
        String password = ctx.clearPassword().orElse("");
        if (password.isEmpty()) {
            ctx.log(LogLevel.INFO, "fail: empty password for " + ctx.user());
            return HookResult.deny("empty password");
        }
        String name = localPart ? ctx.user().substring(0, Math.max(0, ctx.user().lastIndexOf('@'))) : ctx.user();
        if (localPart && name.isEmpty()) {
            ctx.log(LogLevel.INFO, "fail: no user name before '@' in " + ctx.user());
            return HookResult.declined();
        }
        return HookResult.later(logins.call(() -> login(ctx, name, password), Duration.ofSeconds(timeoutSeconds))
                .exceptionally(error -> {
                    ctx.log(LogLevel.ERROR, error instanceof RejectedExecutionException
                            ? "skip: " + QUEUED + " logins to realm " + realm + " already waiting"
                            : error instanceof TimeoutException
                            ? "skip: realm " + realm + " did not answer within " + timeoutSeconds + " s"
                            : "skip: login to realm " + realm + " failed: " + error);
                    return HookResult.denySoft(error instanceof RejectedExecutionException
                            ? "Authentication backend busy" : "Authentication backend unavailable");
                }));
    }

    private HookResult login(AuthContext ctx, String name, String password) {
        // LoginContext loads the realm's LoginModules through the context class loader. The system class loader
        // sees Karaf's ProxyLoginModule (lib/boot, through which Karaf reaches every realm's modules) and the JDK's
        // own modules a login configuration file names; this thread would otherwise carry whichever loader the
        // thread that started the pool had.
        Thread thread = Thread.currentThread();
        ClassLoader before = thread.getContextClassLoader();
        thread.setContextClassLoader(ClassLoader.getSystemClassLoader());
        try {
            LoginContext context = new LoginContext(realm, new Subject(), credentials(name, password), configuration);
            context.login();
            ctx.log(LogLevel.INFO, "pass: " + name + " in realm " + realm);
            return HookResult.ok();
        } catch (AccountNotFoundException unknown) {
            ctx.log(LogLevel.INFO, "fail: realm " + realm + " does not know " + name);
            return HookResult.declined();
        } catch (FailedLoginException | AccountException | CredentialException refused) {
            ctx.log(LogLevel.INFO, "fail: " + name + " in realm " + realm + ": " + refused.getMessage());
            return HookResult.deny("login refused");
        } catch (LoginException | SecurityException unavailable) {
            // no such realm, a module that cannot be loaded or configured, a backend that cannot be reached
            ctx.log(LogLevel.ERROR, "skip: realm " + realm + ": " + unavailable.getMessage());
            return HookResult.denySoft("Authentication backend unavailable");
        } finally {
            thread.setContextClassLoader(before);
        }
    }

    /** Answers the realm's modules with the user name and password; any other question is unsupported. */
    private static CallbackHandler credentials(String name, String password) {
        return callbacks -> {
            for (Callback callback : callbacks) {
                if (callback instanceof NameCallback named) {
                    named.setName(name);
                } else if (callback instanceof PasswordCallback secret) {
                    secret.setPassword(password.toCharArray());
                } else {
                    throw new UnsupportedCallbackException(callback);
                }
            }
        };
    }
}
