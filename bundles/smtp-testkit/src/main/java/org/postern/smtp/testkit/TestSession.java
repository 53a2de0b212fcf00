package org.postern.smtp.testkit;

import java.net.InetSocketAddress;
import java.util.Optional;
import org.postern.smtp.api.Notes;
import org.postern.smtp.api.Session;

/** A session from 192.0.2.1 (TEST-NET-1) to 127.0.0.1:25 that said EHLO client.example. */
public final class TestSession implements Session {
    private final Notes notes = Notes.create();
    private InetSocketAddress remote = new InetSocketAddress("192.0.2.1", 40000);
    private String heloHost = "client.example";
    private boolean extended = true;
    private String authenticatedUser;
    private String remoteHost;
    private boolean inputWaiting;
    private String listener = "default";

    public TestSession remote(String ip, int port) {
        remote = new InetSocketAddress(ip, port);
        return this;
    }

    /** The client's reverse DNS name; by default {@code [ip]}, as when it has none. */
    public TestSession remoteHost(String name) {
        remoteHost = name;
        return this;
    }

    /** The listener the client connected to; {@code default} unless set. */
    public TestSession listener(String name) {
        listener = name;
        return this;
    }

    @Override
    public String listener() {
        return listener;
    }

    /** Makes the client one that has sent input not yet read, as an early talker has. */
    public TestSession inputWaiting(boolean waiting) {
        inputWaiting = waiting;
        return this;
    }

    /** Whether the client greeted with EHLO (true unless set) or HELO. */
    public TestSession extended(boolean saidEhlo) {
        extended = saidEhlo;
        return this;
    }

    public TestSession helo(String host) {
        heloHost = host;
        return this;
    }

    /** Marks the session as authenticated (AUTH PLAIN succeeded) for this user. */
    public TestSession authenticated(String user) {
        authenticatedUser = user;
        return this;
    }

    @Override
    public Optional<String> authMechanism() {
        return authenticatedUser == null ? Optional.empty() : Optional.of("PLAIN");
    }

    @Override
    public Optional<String> tlsProtocol() {
        return Optional.empty();
    }

    @Override
    public Optional<String> tlsCipherSuite() {
        return Optional.empty();
    }

    @Override
    public String id() {
        return "test.1";
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return remote;
    }

    @Override
    public boolean inputWaiting() {
        return inputWaiting;
    }

    @Override
    public String remoteHost() {
        return remoteHost != null ? remoteHost : "[" + remote.getAddress().getHostAddress() + "]";
    }

    @Override
    public InetSocketAddress localAddress() {
        return new InetSocketAddress("127.0.0.1", 25);
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
        return false;
    }

    @Override
    public Optional<String> authenticatedUser() {
        return Optional.ofNullable(authenticatedUser);
    }

    @Override
    public Notes notes() {
        return notes;
    }
}
