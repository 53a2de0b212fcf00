package org.postern.smtp.client;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where messages go and how the client introduces itself there: one connection pool each, so two destinations that
 * are equal share their connections.
 *
 * @param protocol SMTP, or LMTP (RFC 2033: LHLO, a reply per recipient after the final dot)
 * @param host the server's host name or address (empty for a Unix socket); a name is resolved on the client's
 *     blocking executor and its addresses are tried in turn
 * @param port its TCP port (0 for a Unix socket)
 * @param socket the Unix domain socket's file, or null for TCP
 * @param tls the STARTTLS policy
 * @param trustedCertificates for {@link TlsPolicy#VERIFY}: a PEM file of the certificates to trust, or null for
 *     the JVM's trust store
 * @param user the AUTH user name, or null for no AUTH
 * @param password its password
 * @param authWithoutTls whether the credentials may go over a connection without TLS; otherwise such a connection
 *     fails at AUTH ({@code 4.7.11}) without sending them
 * @param heloName the name sent with EHLO, HELO or LHLO
 */
public record Destination(Protocol protocol, String host, int port, Path socket, TlsPolicy tls, Path trustedCertificates,
        String user, String password, boolean authWithoutTls, String heloName) {
    /** The protocol spoken. */
    public enum Protocol {
        SMTP, LMTP
    }

    public Destination {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(heloName, "heloName");
        if (socket == null && (host.isBlank() || port <= 0 || port > 65535)) {
            throw new IllegalArgumentException("a TCP destination needs a host and a port from 1 to 65535: " + host + ":" + port);
        }
        if (user != null && (password == null || user.isEmpty())) {
            throw new IllegalArgumentException("AUTH needs a user name and a password");
        }
        if (!heloName.matches("[\\x21-\\x7e]+")) {
            throw new IllegalArgumentException("not a HELO name: '" + heloName + "'");
        }
    }

    /** An SMTP server, opportunistic TLS, no AUTH, introduced as {@code localhost}. */
    public static Destination smtp(String host, int port) {
        return new Destination(Protocol.SMTP, host, port, null, TlsPolicy.MAY, null, null, null, false, "localhost");
    }

    /** An LMTP server over TCP, without TLS. */
    public static Destination lmtp(String host, int port) {
        return new Destination(Protocol.LMTP, host, port, null, TlsPolicy.NONE, null, null, null, false, "localhost");
    }

    /** An LMTP server on a Unix domain socket, without TLS. */
    public static Destination lmtp(Path socket) {
        return new Destination(Protocol.LMTP, "", 0, Objects.requireNonNull(socket, "socket"), TlsPolicy.NONE, null, null, null,
                false, "localhost");
    }

    /** The same with this STARTTLS policy; {@code trusted} (or null) as {@link #trustedCertificates()}. */
    public Destination withTls(TlsPolicy policy, Path trusted) {
        return new Destination(protocol, host, port, socket, policy, trusted, user, password, authWithoutTls, heloName);
    }

    /** The same with AUTH PLAIN or LOGIN as this user; {@code evenWithoutTls} as {@link #authWithoutTls()}. */
    public Destination withAuth(String newUser, String newPassword, boolean evenWithoutTls) {
        return new Destination(protocol, host, port, socket, tls, trustedCertificates, newUser, newPassword, evenWithoutTls, heloName);
    }

    public Destination withHeloName(String name) {
        return new Destination(protocol, host, port, socket, tls, trustedCertificates, user, password, authWithoutTls, name);
    }

    /** {@code host:port} or the socket's path, for log lines. */
    public String address() {
        if (socket != null) {
            return socket.toString();
        }
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** Everything but the password. */
    @Override
    public String toString() {
        return protocol + " " + address() + " tls=" + tls.name().toLowerCase(java.util.Locale.ROOT)
                + (user == null ? "" : " user=" + user) + " helo=" + heloName;
    }
}
