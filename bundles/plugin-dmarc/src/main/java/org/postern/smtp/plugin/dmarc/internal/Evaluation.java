package org.postern.smtp.plugin.dmarc.internal;

import java.util.Optional;
import org.postern.smtp.api.DkimResults;
import org.postern.smtp.api.SpfResult;
import org.postern.smtp.plugin.dmarc.internal.DmarcRecord.Disposition;
import org.postern.smtp.plugin.dmarc.internal.PolicyDiscovery.Policy;

/**
 * The DMARC verdict on one message (RFC 7489 4.2, 6.6.2, 6.6.4): it passes when a passing DKIM signature or a passing
 * SPF check is aligned with the From domain; the disposition of a failure is the policy of the domain ({@code sp} for
 * a subdomain that only its organizational domain published for), lowered one step outside {@code pct}.
 */
record Evaluation(String fromDomain, Policy policy, boolean dkimAligned, boolean spfAligned, Disposition disposition) {

    /**
     * @param percentile a number from 0 to 99 drawn for this message, which {@code pct} compares with
     */
    static Evaluation of(String fromDomain, Policy policy, Optional<DkimResults> dkim, Optional<SpfResult> spf, int percentile) {
        DmarcRecord record = policy.record();
        boolean dkimAligned = dkim.map(results -> results.passingDomains().stream()
                .anyMatch(domain -> OrganizationalDomain.aligned(domain, fromDomain, record.strictDkim()))).orElse(false);
        boolean spfAligned = spf.filter(SpfResult::passed)
                .filter(result -> OrganizationalDomain.aligned(result.domain(), fromDomain, record.strictSpf())).isPresent();
        Disposition disposition = Disposition.NONE;
        if (!dkimAligned && !spfAligned) {
            disposition = policy.domain().equals(fromDomain) ? record.policy() : record.subdomainPolicy();
            if (percentile >= record.percent()) {
                disposition = disposition.lower();
            }
        }
        return new Evaluation(fromDomain, policy, dkimAligned, spfAligned, disposition);
    }

    boolean passed() {
        return dkimAligned || spfAligned;
    }

    /** The Authentication-Results entry (RFC 7489 11.2), with the policy and what was done in the comment as OpenDMARC writes it. */
    String authenticationResult() {
        return "dmarc=" + (passed() ? "pass" : "fail") + " (p=" + policy.record().policy().tag() + " dis=" + disposition.tag()
                + ") header.from=" + fromDomain;
    }
}
