package org.postern.smtp.plugin.authldapbind.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.SocketFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS sockets to the LDAP server, trusting the CA certificates of {@code ldap_tls_ca_file} (or the JVM's). JNDI
 * verifies the server's name itself, for StartTLS and for ldaps://.
 *
 * <p>For ldaps://, JNDI makes the socket with a factory it knows only by class name and obtains through a static
 * {@code getDefault()}, so a component's own trust cannot be handed to it: {@link #lend} lends it to the thread that
 * connects, for as long as it connects. Public for that reflective call.
 */
public final class TlsSockets extends SSLSocketFactory {
    private static final ThreadLocal<TlsSockets> LENT = new ThreadLocal<>();

    private final SSLSocketFactory tls;
    private final int handshakeTimeoutMillis;

    private TlsSockets(SSLSocketFactory tls, int handshakeTimeoutMillis) {
        this.tls = tls;
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    }

    /** Sockets trusting the certificates of a PEM file, or the JVM's trusted CAs when it is null. */
    static TlsSockets trusting(Path caFile, int handshakeTimeoutMillis) throws IOException, GeneralSecurityException {
        if (caFile == null) {
            return new TlsSockets(SSLContext.getDefault().getSocketFactory(), handshakeTimeoutMillis);
        }
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(caFile)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
        if (certificates.isEmpty()) {
            throw new GeneralSecurityException("no certificate in the file");
        }
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        int n = 0;
        for (Certificate certificate : certificates) {
            trusted.setCertificateEntry("ca" + n++, certificate);
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return new TlsSockets(context.getSocketFactory(), handshakeTimeoutMillis);
    }

    /** Lends these sockets to JNDI's ldaps:// connections made on this thread; null ends the loan. */
    static void lend(TlsSockets sockets) {
        if (sockets == null) {
            LENT.remove();
        } else {
            LENT.set(sockets);
        }
    }

    /** JNDI's way in, by reflection, for an ldaps:// connection (java.naming.ldap.factory.socket). */
    public static SocketFactory getDefault() {
        TlsSockets lent = LENT.get();
        if (lent == null) {
            throw new IllegalStateException("no LDAP connection is being made on this thread");
        }
        return lent;
    }

    /**
     * StartTLS: the TLS layer over the connection's socket. JNDI runs this handshake with no time limit, so the
     * socket gets one; it stays, which is harmless, as every later read waits for an answer JNDI bounds by the
     * same time anyway.
     */
    @Override
    public Socket createSocket(Socket socket, String host, int port, boolean autoClose) throws IOException {
        Socket layered = tls.createSocket(socket, host, port, autoClose);
        layered.setSoTimeout(handshakeTimeoutMillis);
        return layered;
    }

    /** ldaps://: JNDI connects this socket and bounds the handshake itself. */
    @Override
    public Socket createSocket() throws IOException {
        return tls.createSocket();
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return tls.createSocket(host, port);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return tls.createSocket(host, port, localHost, localPort);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return tls.createSocket(host, port);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return tls.createSocket(address, port, localAddress, localPort);
    }

    @Override
    public String[] getDefaultCipherSuites() {
        return tls.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return tls.getSupportedCipherSuites();
    }
}
