package org.postern.smtp.plugin.authldapbind.internal;

import java.util.Locale;
import java.util.concurrent.RejectedExecutionException;
import javax.naming.NamingException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
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
 * qpsmtpd's {@code auth/auth_ldap_bind}: checks AUTH PLAIN and LOGIN credentials by searching the user's entry
 * under {@code ldap_base} and binding to the directory as that entry with the given password. An unknown user is
 * declined (another auth plugin may know it), a wrong password denied, a directory that cannot be reached or
 * answers with an error a temporary failure. The LDAP exchange blocks (JNDI), so it runs on this component's
 * few threads and the hook answers later.
 */
@Component(service = AuthHook.class, configurationPid = AuthLdapBind.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = AuthLdapBind.Config.class)
@PosternPlugin("auth_ldap_bind")
@PosternHook({"auth-plain", "auth-login"})
@HookOrder(110)
public final class AuthLdapBind implements AuthHook {
    static final String PID = "org.postern.smtp.plugin.auth_ldap_bind";
    /** LDAP exchanges at a time: each takes milliseconds, and AUTH is rare next to mail. */
    private static final int THREADS = 4;
    /** Checks that may wait for a thread; beyond them AUTH gets 454 at once instead of waiting out its timeout. */
    private static final int QUEUED = 64;

    @ObjectClassDefinition(name = "Postern plugin: auth_ldap_bind",
            description = "Checks AUTH PLAIN and LOGIN credentials by binding to an LDAP directory as the user")
    public @interface Config {
        @AttributeDefinition(description = "The LDAP server's host name or address; several, separated by spaces "
                + "or commas, are tried in order")
        String ldap__host() default "127.0.0.1";

        @AttributeDefinition(description = "The LDAP server's port (636 is the usual one for ldap_tls = ldaps)")
        int ldap__port() default 389;

        @AttributeDefinition(description = "The DN under which users are searched, e.g. ou=people,dc=example,dc=org")
        String ldap__base();

        @AttributeDefinition(description = "The attribute that holds the user name given in AUTH")
        String ldap__auth__filter__attr() default "uid";

        @AttributeDefinition(description = "DN to bind as for the search; empty: search anonymously")
        String ldap__bind__dn() default "";

        @AttributeDefinition(type = AttributeType.PASSWORD, description = "Password of ldap_bind_dn")
        String ldap__bind__password() default "";

        @AttributeDefinition(description = "Seconds to connect, and for each LDAP operation")
        int ldap__timeout() default 5;

        @AttributeDefinition(description = "TLS to the LDAP server: none, starttls (on the LDAP port) or ldaps",
                options = {@Option(value = "none"), @Option(value = "starttls"), @Option(value = "ldaps")})
        String ldap__tls() default "none";

        @AttributeDefinition(description = "PEM file of the CA certificates that sign the LDAP server's; empty: the "
                + "JVM's trusted CAs")
        String ldap__tls__ca__file() default "";

        @AttributeDefinition(description = "Search with the user name's part before '@' (as qpsmtpd); false: the "
                + "whole name, e.g. with ldap_auth_filter_attr = mail")
        boolean ldap__strip__domain() default true;
    }

    private final LdapDirectory directory;
    private final boolean stripDomain;
    private final BlockingCalls checks = new BlockingCalls("auth-ldap-bind", THREADS, QUEUED);

    @Activate
    public AuthLdapBind(Config config) {
        this(LdapDirectory.of(config), config.ldap__strip__domain());
    }

    AuthLdapBind(LdapDirectory directory, boolean stripDomain) {
        this.directory = directory;
        this.stripDomain = stripDomain;
    }

    /** Checks under way are interrupted and queued ones answered 454 at once, so no session waits for a plugin that is gone. */
    @Deactivate
    void deactivate() {
        checks.close();
    }

    @Override
    public HookResult onAuth(AuthContext ctx) {
        String user = ctx.user();
        String password = ctx.clearPassword().orElse("");
        // RFC 4513 5.1.2: a bind with a DN and an empty password is an unauthenticated bind, which many servers
        // answer with success; so an empty password never reaches the directory
        if (password.isEmpty()) {
            ctx.log(LogLevel.INFO, "fail: empty password for " + user);
            return HookResult.deny("empty password");
        }
        String name = searchName(user);
        if (name.isEmpty()) {
            ctx.log(LogLevel.INFO, "fail: no user name in " + user);
            return HookResult.declined();
        }
        return HookResult.later(checks.call(() -> check(ctx, name, password)).exceptionally(error -> {
            ctx.log(LogLevel.ERROR, error instanceof RejectedExecutionException
                    ? "skip: " + QUEUED + " LDAP checks already waiting, or the plugin stopped" : "skip: LDAP check failed: " + error);
            return HookResult.denySoft("LDAP server busy");
        }));
    }

    /** The value searched for: lower case, as qpsmtpd; by default without the domain. */
    String searchName(String user) {
        String name = user.toLowerCase(Locale.ROOT);
        int at = name.indexOf('@');
        return stripDomain && at >= 0 ? name.substring(0, at) : name;
    }

    private HookResult check(AuthContext ctx, String name, String password) {
        LdapDirectory.Answer answer;
        try {
            answer = directory.authenticate(name, password);
        } catch (NamingException e) {
            ctx.log(LogLevel.ERROR, "skip: LDAP " + directory.servers() + ": " + LdapDirectory.describe(e));
            return HookResult.denySoft("LDAP server unavailable");
        }
        return switch (answer.outcome()) {
            case AUTHENTICATED -> {
                ctx.log(LogLevel.INFO, "pass: " + ctx.user() + " bound as " + answer.dn());
                yield HookResult.ok();
            }
            case WRONG_PASSWORD -> {
                ctx.log(LogLevel.INFO, "fail: wrong password for " + answer.dn());
                yield HookResult.deny("wrong password");
            }
            case UNKNOWN_USER -> {
                ctx.log(LogLevel.INFO, "fail: no entry with " + directory.filter(name));
                yield HookResult.declined();
            }
            case AMBIGUOUS_USER -> {
                ctx.log(LogLevel.ERROR, "fail: more than one entry with " + directory.filter(name) + "; refusing to guess which");
                yield HookResult.declined();
            }
        };
    }
}
