package org.postern.smtp.api.dns;

/** A lookup the DNS could not answer: no reply in time, or a server failure. Not a missing name. */
public final class DnsFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why the lookup failed. */
    public enum Kind {
        /** No server answered within the resolver's timeout. */
        TIMEOUT,
        /** A server answered SERVFAIL, REFUSED or another error code. */
        SERVER_FAILURE,
        /** The query could not be sent or its answer could not be read. */
        NETWORK
    }

    private final Kind kind;
    private final String name;

    public DnsFailure(Kind kind, String name, String detail, Throwable cause) {
        super(name + ": " + detail, cause);
        this.kind = kind;
        this.name = name;
    }

    /**
     * The DnsFailure behind an error a lookup's stage completed with (dependent stages wrap it in a
     * {@code CompletionException}), or null when the error is something else.
     */
    public static DnsFailure in(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof DnsFailure failure) {
                return failure;
            }
        }
        return null;
    }

    public Kind kind() {
        return kind;
    }

    /** The name that was asked. */
    public String name() {
        return name;
    }
}
