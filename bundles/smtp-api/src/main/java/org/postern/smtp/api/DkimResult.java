package org.postern.smtp.api;

/**
 * The verdict on one DKIM-Signature field of a message (RFC 6376), as RFC 8601 names DKIM's results.
 *
 * @param domain the signing domain, its {@code d=} tag, in lower case
 * @param selector its {@code s=} tag
 * @param result {@code pass}, {@code fail}, {@code neutral}, {@code policy}, {@code temperror} or {@code permerror}
 * @param signaturePrefix the first characters of its {@code b=} tag, which tell signatures of one domain apart in
 *        Authentication-Results ({@code header.b}, RFC 6008)
 * @since 1.5
 */
public record DkimResult(String domain, String selector, String result, String signaturePrefix) {
    public boolean passed() {
        return "pass".equals(result);
    }
}
