package org.postern.smtp.api.dns;

/**
 * One MX record.
 *
 * @param preference lower is tried first
 * @param exchange the mail server's host name, without the trailing dot; {@code ""} for a null MX (RFC 7505)
 */
public record MxRecord(int preference, String exchange) {
    /** True for RFC 7505's null MX ({@code 0 .}): the domain accepts no mail. */
    public boolean isNullMx() {
        return exchange.isEmpty();
    }
}
