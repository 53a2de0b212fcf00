package org.postern.mailauth.dkim;

/**
 * A signature or key that cannot be used, with the result RFC 8601 gives it ({@code permerror} for a malformed or
 * unusable one, {@code temperror} for a key DNS could not answer for) and a short reason for people.
 */
public final class DkimException extends Exception {
    private static final long serialVersionUID = 1L;

    private final Verdict.Result result;

    public DkimException(Verdict.Result result, String reason) {
        super(reason);
        this.result = result;
    }

    /** A malformed or unusable signature or key. */
    static DkimException invalid(String reason) {
        return new DkimException(Verdict.Result.PERMERROR, reason);
    }

    public Verdict.Result result() {
        return result;
    }
}
