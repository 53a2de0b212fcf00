package org.postern.smtp.plugin.dmarc.internal;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.postern.smtp.api.dns.Resolver;

/**
 * Finds the DMARC policy of a From domain (RFC 7489 6.6.3): the TXT record at {@code _dmarc.<domain>}, else at
 * {@code _dmarc.<organizational domain>}. A DNS failure fails the stage with the resolver's {@code DnsFailure}.
 */
final class PolicyDiscovery {
    /** A policy and the domain it was published for. */
    record Policy(DmarcRecord record, String domain) {
    }

    private final Resolver resolver;

    PolicyDiscovery(Resolver resolver) {
        this.resolver = resolver;
    }

    CompletionStage<Optional<Policy>> discover(String fromDomain) {
        String organizational = OrganizationalDomain.of(fromDomain);
        return lookup(fromDomain).thenCompose(policy -> policy.isPresent() || organizational.equals(fromDomain)
                ? CompletableFuture.completedFuture(policy) : lookup(organizational));
    }

    /** One name's policy: none unless exactly one of its TXT records is a DMARC record that may be applied. */
    private CompletionStage<Optional<Policy>> lookup(String domain) {
        return resolver.txt("_dmarc." + domain).thenApply(records -> {
            List<String> dmarc = records.stream().filter(text -> text.startsWith("v=DMARC1")).toList();
            return dmarc.size() == 1 ? DmarcRecord.parse(dmarc.get(0)).map(record -> new Policy(record, domain)) : Optional.empty();
        });
    }
}
