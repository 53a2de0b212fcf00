package org.postern.mailauth.dkim;

import java.util.Locale;

/**
 * The result of verifying one signature.
 *
 * @param result what RFC 8601 2.7.1 calls it
 * @param detail why, for people (empty when there is nothing to add, as for a pass), e.g. {@code body has been altered}
 * @param domain the signing domain ({@code d=}) in lower case, empty when the signature was too broken to say
 * @param selector the selector ({@code s=}), empty when unknown
 * @param signaturePrefix the first characters of {@code b=} (RFC 6008's {@code header.b})
 * @param testing the key says the domain is testing DKIM ({@code t=y})
 */
public record Verdict(Result result, String detail, String domain, String selector, String signaturePrefix, boolean testing) {
    public enum Result {
        PASS, FAIL, NEUTRAL, POLICY, TEMPERROR, PERMERROR;

        /** The result's name in Authentication-Results. */
        public String keyword() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
