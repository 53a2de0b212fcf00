package org.postern.smtp.api;

import java.util.List;

/**
 * The verdicts on every DKIM signature of a message, in the order of its header; empty when it has none.
 *
 * @since 1.5
 */
public record DkimResults(List<DkimResult> signatures) {
    public DkimResults {
        signatures = List.copyOf(signatures);
    }

    /** The domains of the signatures that passed, in order, without repeats. */
    public List<String> passingDomains() {
        return signatures.stream().filter(DkimResult::passed).map(DkimResult::domain).distinct().toList();
    }
}
