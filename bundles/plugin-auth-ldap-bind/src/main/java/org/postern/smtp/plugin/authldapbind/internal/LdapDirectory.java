package org.postern.smtp.plugin.authldapbind.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.naming.AuthenticationException;
import javax.naming.CommunicationException;
import javax.naming.Context;
import javax.naming.InvalidNameException;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.PartialResultException;
import javax.naming.SizeLimitExceededException;
import javax.naming.directory.SearchControls;
import javax.naming.directory.SearchResult;
import javax.naming.ldap.InitialLdapContext;
import javax.naming.ldap.LdapContext;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.StartTlsRequest;
import javax.naming.ldap.StartTlsResponse;

/**
 * The LDAP side of auth_ldap_bind, over the JDK's LDAP provider (JNDI), blocking: one connection per check, on
 * which the search (anonymous or as {@code ldap_bind_dn}) and then the user's own bind run, after StartTLS when
 * configured. Each step is bounded by {@code ldap_timeout}.
 */
final class LdapDirectory {
    enum Tls { NONE, STARTTLS, LDAPS }

    enum Outcome { AUTHENTICATED, WRONG_PASSWORD, UNKNOWN_USER, AMBIGUOUS_USER }

    /** What a check found: the outcome, and the user's DN when there was exactly one. */
    record Answer(Outcome outcome, String dn) {
    }

    /** An attribute description (RFC 4512 2.5): a name or an OID, with options such as {@code ;lang-en}. */
    private static final Pattern ATTRIBUTE = Pattern.compile("([A-Za-z][A-Za-z0-9-]*|[0-9]+(\\.[0-9]+)+)(;[A-Za-z0-9-]+)*");
    /** A host name, an IPv4 address or an IPv6 address, with or without brackets. */
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._-]+|\\[?[0-9A-Fa-f:.]+]?");

    /**
     * JNDI finds its LDAP provider, its StartTLS implementation and an ldaps:// socket factory by class name through
     * the thread's context class loader. In OSGi that is whatever the framework or a bundle left there, which does
     * not see the JDK's internal packages; this one sees them (through the platform class loader) and TlsSockets.
     */
    private static final ClassLoader JNDI_LOADER = new ClassLoader("auth_ldap_bind-jndi", ClassLoader.getPlatformClassLoader()) {
        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            if (name.equals(TlsSockets.class.getName())) {
                return TlsSockets.class;
            }
            throw new ClassNotFoundException(name);
        }
    };

    private final String servers;
    private final String urls;
    private final LdapName base;
    private final String attribute;
    private final String bindDn;
    private final String bindPassword;
    private final int timeoutMillis;
    private final Tls tls;
    private final TlsSockets sockets;

    private LdapDirectory(List<String> hosts, int port, LdapName base, String attribute, String bindDn, String bindPassword,
            int timeoutMillis, Tls tls, TlsSockets sockets) {
        this.servers = hosts.stream().map(host -> host + ":" + port).collect(Collectors.joining(" "));
        String scheme = tls == Tls.LDAPS ? "ldaps://" : "ldap://";
        this.urls = hosts.stream().map(host -> scheme + host + ":" + port).collect(Collectors.joining(" "));
        this.base = base;
        this.attribute = attribute;
        this.bindDn = bindDn;
        this.bindPassword = bindPassword;
        this.timeoutMillis = timeoutMillis;
        this.tls = tls;
        this.sockets = sockets;
    }

    /** The directory a configuration names; an unusable value is an IllegalArgumentException naming its key. */
    static LdapDirectory of(AuthLdapBind.Config config) {
        List<String> hosts = Arrays.stream(config.ldap__host().split("[\\s,]+")).filter(host -> !host.isEmpty())
                .map(LdapDirectory::host).toList();
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("key 'ldap_host': no host");
        }
        if (config.ldap__port() < 1 || config.ldap__port() > 65535) {
            throw new IllegalArgumentException("key 'ldap_port': " + config.ldap__port() + " is not a port");
        }
        String base = config.ldap__base() == null ? "" : config.ldap__base().strip();
        if (base.isEmpty()) {
            throw new IllegalArgumentException("key 'ldap_base' is required, e.g. ldap_base = dc=example,dc=org");
        }
        LdapName baseName;
        try {
            baseName = new LdapName(base);
        } catch (InvalidNameException e) {
            throw new IllegalArgumentException("key 'ldap_base': " + base + " is not a DN", e);
        }
        String attribute = config.ldap__auth__filter__attr().strip();
        if (!ATTRIBUTE.matcher(attribute).matches()) {
            throw new IllegalArgumentException("key 'ldap_auth_filter_attr': " + attribute + " is not an attribute name");
        }
        String bindDn = config.ldap__bind__dn().strip();
        if (!bindDn.isEmpty() && config.ldap__bind__password().isEmpty()) {
            // it would be an unauthenticated bind (RFC 4513 5.1.2): anonymous, whatever the DN says
            throw new IllegalArgumentException("key 'ldap_bind_password' is required with ldap_bind_dn");
        }
        if (config.ldap__timeout() < 1) {
            throw new IllegalArgumentException("key 'ldap_timeout': " + config.ldap__timeout() + " is less than 1 second");
        }
        Tls tls;
        try {
            tls = Tls.valueOf(config.ldap__tls().strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("key 'ldap_tls': " + config.ldap__tls() + " is none of none, starttls, ldaps", e);
        }
        int timeoutMillis = config.ldap__timeout() * 1000;
        String caFile = config.ldap__tls__ca__file().strip();
        TlsSockets sockets;
        try {
            sockets = TlsSockets.trusting(caFile.isEmpty() ? null : Path.of(caFile), timeoutMillis);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("key 'ldap_tls_ca_file': " + caFile + ": " + e.getMessage(), e);
        }
        return new LdapDirectory(hosts, config.ldap__port(), baseName, attribute, bindDn, config.ldap__bind__password(),
                timeoutMillis, tls, sockets);
    }

    private static String host(String host) {
        if (!HOST.matcher(host).matches()) {
            throw new IllegalArgumentException("key 'ldap_host': " + host + " is not a host name or address");
        }
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** The servers as host:port, for log lines. */
    String servers() {
        return servers;
    }

    /** The LDAP URLs JNDI is given, tried in order. */
    String urls() {
        return urls;
    }

    /** The search filter for a user name. */
    String filter(String name) {
        return equalityFilter(attribute, name);
    }

    /** {@code (attribute=value)} with the value escaped (RFC 4515 3), so that a user name is only ever a value. */
    static String equalityFilter(String attribute, String value) {
        StringBuilder filter = new StringBuilder(attribute.length() + value.length() + 3).append('(').append(attribute).append('=');
        for (char c : value.toCharArray()) {
            switch (c) {
                case '*' -> filter.append("\\2a");
                case '(' -> filter.append("\\28");
                case ')' -> filter.append("\\29");
                case '\\' -> filter.append("\\5c");
                case '\0' -> filter.append("\\00");
                default -> filter.append(c);
            }
        }
        return filter.append(')').toString();
    }

    /** Looks the user up and binds as them with the password; an exception means the directory could not tell. */
    Answer authenticate(String name, String password) throws NamingException {
        Thread thread = Thread.currentThread();
        ClassLoader own = thread.getContextClassLoader();
        thread.setContextClassLoader(JNDI_LOADER);
        TlsSockets.lend(sockets);
        try {
            return authenticateOnce(name, password);
        } finally {
            TlsSockets.lend(null);
            thread.setContextClassLoader(own);
        }
    }

    private Answer authenticateOnce(String name, String password) throws NamingException {
        LdapContext ctx = new InitialLdapContext(environment(), null);
        try {
            if (tls == Tls.STARTTLS) {
                StartTlsResponse response = (StartTlsResponse) ctx.extendedOperation(new StartTlsRequest());
                try {
                    response.negotiate(sockets);
                } catch (IOException e) {
                    throw communication("StartTLS failed", e);
                }
            }
            if (!bindDn.isEmpty()) {
                try {
                    bind(ctx, bindDn, bindPassword);
                } catch (AuthenticationException e) {
                    throw communication("the directory refused ldap_bind_dn " + bindDn, e);
                }
            }
            List<String> dns = search(ctx, name);
            if (dns.size() != 1) {
                return new Answer(dns.isEmpty() ? Outcome.UNKNOWN_USER : Outcome.AMBIGUOUS_USER, null);
            }
            try {
                bind(ctx, dns.get(0), password);
                return new Answer(Outcome.AUTHENTICATED, dns.get(0));
            } catch (AuthenticationException e) {
                return new Answer(Outcome.WRONG_PASSWORD, dns.get(0));
            }
        } finally {
            ctx.close();
        }
    }

    private Hashtable<String, Object> environment() {
        Hashtable<String, Object> env = new Hashtable<>();
        env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.ldap.LdapCtxFactory");
        env.put(Context.PROVIDER_URL, urls);
        // no bind when connecting: binds come later, after StartTLS
        env.put(Context.SECURITY_AUTHENTICATION, "none");
        env.put(Context.REFERRAL, "ignore");
        env.put("java.naming.ldap.version", "3");
        env.put("com.sun.jndi.ldap.connect.timeout", Integer.toString(timeoutMillis));
        env.put("com.sun.jndi.ldap.read.timeout", Integer.toString(timeoutMillis));
        if (tls == Tls.LDAPS) {
            env.put("java.naming.ldap.factory.socket", TlsSockets.class.getName());
        }
        return env;
    }

    /**
     * A simple bind on the context's connection. JNDI binds again on the same connection when it can; when it
     * cannot, and the connection had StartTLS, it refuses to send the password over a new plain one.
     */
    private static void bind(LdapContext ctx, String dn, String password) throws NamingException {
        ctx.addToEnvironment(Context.SECURITY_AUTHENTICATION, "simple");
        ctx.addToEnvironment(Context.SECURITY_PRINCIPAL, dn);
        ctx.addToEnvironment(Context.SECURITY_CREDENTIALS, password);
        ctx.reconnect(null);
    }

    /** The DNs of the entries whose attribute holds the name: none, one, or (at most) two, which is one too many. */
    private List<String> search(LdapContext ctx, String name) throws NamingException {
        SearchControls controls = new SearchControls();
        controls.setSearchScope(SearchControls.SUBTREE_SCOPE);
        controls.setReturningAttributes(new String[] {"1.1"}); // RFC 4511 4.5.1.8: no attributes, only the DN
        controls.setCountLimit(2);
        controls.setTimeLimit(timeoutMillis);
        List<String> dns = new ArrayList<>();
        NamingEnumeration<SearchResult> results = ctx.search(base, filter(name), controls);
        try {
            while (results.hasMore()) {
                dns.add(results.next().getNameInNamespace());
            }
        } catch (SizeLimitExceededException moreThanTwo) {
            // the two found already say the name is ambiguous
        } catch (PartialResultException referrals) {
            // continuation references (Active Directory sends them for its other partitions): not followed, as
            // java.naming.referral = ignore says; the entries found so far stand
        } finally {
            results.close();
        }
        return dns;
    }

    private static NamingException communication(String what, Exception cause) {
        NamingException e = new CommunicationException(what);
        e.setRootCause(cause);
        return e;
    }

    /** An exception as a log line: JNDI's messages often say little without their root cause. */
    static String describe(NamingException e) {
        String text = e.getExplanation() != null ? e.getExplanation() : e.getClass().getSimpleName();
        Throwable cause = e.getRootCause();
        return cause == null ? text : text + " (" + cause + ")";
    }
}
