package org.postern.smtp.api;

/** The seven answers a hook can give, with qpsmtpd's meanings. */
public enum ReturnCode {
    /** Accept; stop running further plugins for this hook. */
    OK,
    /** No opinion; run the next plugin. */
    DECLINED,
    /** Stop; the plugin supplied the reply itself. */
    DONE,
    /** Permanent failure (5xx). */
    DENY,
    /** Temporary failure (4xx). */
    DENYSOFT,
    /** Permanent failure, then close the connection. */
    DENY_DISCONNECT,
    /** Temporary failure, then close the connection. */
    DENYSOFT_DISCONNECT;

    public boolean isDenial() {
        return this == DENY || this == DENYSOFT || this == DENY_DISCONNECT || this == DENYSOFT_DISCONNECT;
    }

    public boolean isPermanent() {
        return this == DENY || this == DENY_DISCONNECT;
    }

    public boolean disconnects() {
        return this == DENY_DISCONNECT || this == DENYSOFT_DISCONNECT;
    }
}
