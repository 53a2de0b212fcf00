package org.postern.smtp.core.internal.protocol;

import java.net.InetSocketAddress;
import java.util.Optional;
import org.postern.smtp.api.Notes;
import org.postern.smtp.api.Session;

/** The connection as hooks see it. */
final class SessionState implements Session {
    private final String id;
    private final String listener;
    private final InetSocketAddress remote;
    private final InetSocketAddress local;
    private volatile Notes notes = Notes.create();
    /** The notes as the greeting went out: what plugins learnt from the connection, before the client said a word. */
    private volatile Notes notesAtGreeting = Notes.create();
    private volatile String heloHost;
    private volatile boolean extended;
    private volatile String authenticatedUser;
    private volatile String authMechanism;
    private volatile String tlsDescription;
    private volatile String remoteHost;
    private final java.util.function.BooleanSupplier inputWaiting;

    SessionState(String id, String listener, InetSocketAddress remote, InetSocketAddress local,
            java.util.function.BooleanSupplier inputWaiting) {
        this.inputWaiting = inputWaiting;
        this.id = id;
        this.listener = listener;
        this.remote = remote;
        this.local = local;
    }

    void hello(String host, boolean extended) {
        this.heloHost = host;
        this.extended = extended;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String listener() {
        return listener;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return remote;
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public boolean inputWaiting() {
        return inputWaiting.getAsBoolean();
    }

    @Override
    public String remoteHost() {
        return remoteHost != null ? remoteHost : "[" + remoteIp() + "]";
    }

    void remoteHost(String name) {
        remoteHost = name;
    }

    /** The client's IP as text, without a port. */
    String remoteIp() {
        return remote.getAddress() == null ? remote.getHostString() : remote.getAddress().getHostAddress();
    }

    @Override
    public Optional<String> heloHost() {
        return Optional.ofNullable(heloHost);
    }

    @Override
    public boolean extended() {
        return extended;
    }

    @Override
    public boolean tls() {
        return tlsDescription != null;
    }

    /** TLS is on: RFC 3207 4.2, everything learnt from the client before is forgotten. */
    void greeted() {
        notesAtGreeting = notes.copy();
    }

    /**
     * RFC 3207 4.2: what was learnt from the client before TLS is forgotten; what the connection itself told
     * plugins before the greeting (a relay client by its address, a DNS whitelisting) still holds.
     */
    void tlsStarted(String description) {
        tlsDescription = description;
        heloHost = null;
        extended = false;
        authenticatedUser = null;
        authMechanism = null;
        notes = notesAtGreeting.copy();
    }

    /** Protocol and cipher, e.g. {@code TLSv1.3:TLS_AES_256_GCM_SHA384}, or null. */
    String tlsDescription() {
        return tlsDescription;
    }

    @Override
    public Optional<String> tlsProtocol() {
        return Optional.ofNullable(tlsDescription).map(description -> description.substring(0, description.indexOf(':')));
    }

    @Override
    public Optional<String> tlsCipherSuite() {
        return Optional.ofNullable(tlsDescription).map(description -> description.substring(description.indexOf(':') + 1));
    }

    @Override
    public Optional<String> authenticatedUser() {
        return Optional.ofNullable(authenticatedUser);
    }

    void authenticated(String user, String mechanism) {
        this.authenticatedUser = user;
        this.authMechanism = mechanism;
    }

    @Override
    public Optional<String> authMechanism() {
        return Optional.ofNullable(authMechanism);
    }

    @Override
    public Notes notes() {
        return notes;
    }
}
