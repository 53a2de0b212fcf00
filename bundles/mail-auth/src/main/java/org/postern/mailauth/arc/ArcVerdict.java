package org.postern.mailauth.arc;

import java.util.Locale;
import java.util.Optional;

/**
 * What verifying a message's ARC chain found (RFC 8617 5.2), and what the next sealer needs from it.
 *
 * @param result {@code arc=} in Authentication-Results
 * @param detail why it failed, for people; empty for none and pass
 * @param chain the chain as read
 * @param oldestPass the lowest instance from which every ARC-Message-Signature up to the newest validates (RFC
 *        8617 5.2 step 6), 0 when the chain does not pass
 */
public record ArcVerdict(Result result, String detail, ArcChain chain, int oldestPass) {
    public enum Result {
        NONE, PASS, FAIL;

        public String keyword() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The newest instance, N. */
    public int instance() {
        return chain.highestInstance();
    }

    /**
     * The ARC-Authentication-Results of the oldest instance that still passes, unfolded, white space runs made one
     * space; empty unless the chain passes.
     */
    public Optional<String> oldestPassResults() {
        return chain.sets().stream().filter(set -> set.instance() == oldestPass).findFirst()
                .map(set -> set.results().unfoldedValue().replaceAll("[ \t]+", " "));
    }

    /**
     * The Authentication-Results entry: {@code arc=pass (i=2)}, with the failure's reason in the comment, and
     * {@code header.oldest-pass} (RFC 8617 10.1) when an older set's message signature no longer validates.
     */
    public String authResult() {
        StringBuilder entry = new StringBuilder("arc=").append(result.keyword());
        if (result != Result.NONE) {
            entry.append(" (i=").append(instance());
            if (!detail.isEmpty()) {
                entry.append(' ').append(detail.replace('(', '[').replace(')', ']'));
            }
            entry.append(')');
        }
        if (result == Result.PASS && oldestPass > 1) {
            entry.append(" header.oldest-pass=").append(oldestPass);
        }
        return entry.toString();
    }
}
