package org.postern.smtp.api;

import java.net.InetSocketAddress;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/** One SMTP connection as plugins see it (qpsmtpd's {@code Qpsmtpd::Connection}). */
@ProviderType
public interface Session {
    /** A short id unique within this server run, also used in logs and the Received header. */
    String id();

    InetSocketAddress remoteAddress();

    InetSocketAddress localAddress();

    /**
     * The client's host name from reverse DNS (qpsmtpd's {@code remote_host}): its address's PTR name as the
     * DNS gave it, not verified (the fcrdns plugin verifies it), or {@code [ip]} when there is none, the lookup
     * failed, or no DNS resolver is installed. Known from {@code pre_connection} on.
     *
     * @since 1.2
     */
    String remoteHost();

    /**
     * qpsmtpd's {@code remote_info}: the remote host, as Postern makes no ident (RFC 1413) lookup.
     *
     * @since 1.2
     */
    default String remoteInfo() {
        return remoteHost();
    }

    /**
     * True when the client has sent input the server has not yet taken as a command or message line: a client
     * that talks before it was answered (before the greeting, before the 354 to DATA), as qpsmtpd's
     * earlytalker checks. Current as of the server's last read from the connection; while plugins work on a
     * command the server still reads, so early input is seen.
     *
     * @since 1.2
     */
    boolean inputWaiting();

    /**
     * The name of the listener the client connected to ({@code default} for an unnamed one); a plugin configured
     * with {@code postern.listeners} runs only in the sessions of the listeners it names.
     *
     * @since 1.4
     */
    String listener();

    /** The name the client gave in HELO or EHLO, once it has. */
    Optional<String> heloHost();

    /** True once the client said EHLO (rather than HELO). */
    boolean extended();

    /** True when the connection is protected by TLS. */
    boolean tls();

    /** The authenticated user, once AUTH succeeded. */
    Optional<String> authenticatedUser();

    /**
     * The SASL mechanism of the successful AUTH, upper case ({@code PLAIN}, {@code LOGIN}, {@code CRAM-MD5}).
     *
     * @since 1.1
     */
    Optional<String> authMechanism();

    /**
     * The TLS protocol, e.g. {@code TLSv1.3}, once TLS is on (after STARTTLS, or from the start on an implicit-TLS listener).
     *
     * @since 1.1
     */
    Optional<String> tlsProtocol();

    /**
     * The TLS cipher suite, e.g. {@code TLS_AES_256_GCM_SHA384}, once TLS is on (after STARTTLS, or from the start on an implicit-TLS listener).
     *
     * @since 1.1
     */
    Optional<String> tlsCipherSuite();

    /** Notes that live as long as the connection. */
    Notes notes();
}
