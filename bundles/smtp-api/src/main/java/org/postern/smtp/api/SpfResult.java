package org.postern.smtp.api;

/**
 * SPF's verdict (RFC 7208) on one identity of a transaction, as DMARC (RFC 7489) aligns it with the From domain:
 * qpsmtpd's {@code dmarc_spf} note.
 *
 * @param domain the domain checked, in lower case; empty when there was none (a null sender checked by its HELO name)
 * @param scope {@code mfrom} for the envelope sender, {@code helo} for the HELO name
 * @param result {@code pass}, {@code fail}, {@code softfail}, {@code neutral}, {@code none}, {@code temperror} or
 *        {@code permerror}
 * @since 1.5
 */
public record SpfResult(String domain, String scope, String result) {
    public boolean passed() {
        return "pass".equals(result);
    }
}
