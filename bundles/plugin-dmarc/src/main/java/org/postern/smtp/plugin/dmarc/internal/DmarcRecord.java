package org.postern.smtp.plugin.dmarc.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A DMARC policy record (RFC 7489 6.3), as published in the TXT record of {@code _dmarc.<domain>}.
 *
 * @param policy {@code p}: none, quarantine or reject
 * @param subdomainPolicy {@code sp}, {@code p} when absent
 * @param strictDkim {@code adkim=s}
 * @param strictSpf {@code aspf=s}
 * @param percent {@code pct}, 0 to 100
 * @param aggregateReportTo {@code rua}: the report URIs, empty when none
 * @param failureOptions {@code fo}, as published ({@code 0} when absent): aggregate reports repeat it
 */
record DmarcRecord(Disposition policy, Disposition subdomainPolicy, boolean strictDkim, boolean strictSpf, int percent,
        List<String> aggregateReportTo, String failureOptions) {

    /** What a receiver is asked to do with mail that fails (RFC 7489 6.3, {@code p}). */
    enum Disposition {
        NONE, QUARANTINE, REJECT;

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** RFC 7489 6.6.4: a message outside {@code pct} gets the next policy down. */
        Disposition lower() {
            return this == REJECT ? QUARANTINE : NONE;
        }

        static Optional<Disposition> of(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "none" -> Optional.of(NONE);
                case "quarantine" -> Optional.of(QUARANTINE);
                case "reject" -> Optional.of(REJECT);
                default -> Optional.empty();
            };
        }
    }

    /**
     * The record a TXT string holds, or empty when it is not a DMARC record a receiver may apply: it must begin with
     * {@code v=DMARC1}; a missing or unknown {@code p} makes it {@code p=none} when it asks for aggregate reports
     * and discards it otherwise (RFC 7489 6.6.3); other unknown or malformed tags fall back to their defaults.
     */
    static Optional<DmarcRecord> parse(String text) {
        Map<String, String> tags = tags(text);
        if (tags == null || !"DMARC1".equals(tags.get("v"))) {
            return Optional.empty();
        }
        List<String> rua = uris(tags.get("rua"));
        Optional<Disposition> p = Optional.ofNullable(tags.get("p")).flatMap(Disposition::of);
        if (p.isEmpty() && rua.isEmpty()) {
            return Optional.empty();
        }
        Disposition policy = p.orElse(Disposition.NONE);
        Disposition subdomainPolicy = Optional.ofNullable(tags.get("sp")).flatMap(Disposition::of).orElse(policy);
        return Optional.of(new DmarcRecord(policy, subdomainPolicy, "s".equalsIgnoreCase(tags.get("adkim")),
                "s".equalsIgnoreCase(tags.get("aspf")), percent(tags.get("pct")), rua, tags.getOrDefault("fo", "0")));
    }

    /** The tags in order of the text, names as written; null when the text does not begin with its {@code v} tag. */
    private static Map<String, String> tags(String text) {
        Map<String, String> tags = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        boolean first = true;
        for (String part : text.split(";")) {
            String tag = part.strip();
            int equals = tag.indexOf('=');
            if (tag.isEmpty() || equals < 1) {
                if (first) {
                    return null;
                }
                continue;
            }
            String name = tag.substring(0, equals).strip();
            if (first && !name.equals("v")) {
                return null;
            }
            first = false;
            tags.putIfAbsent(name, tag.substring(equals + 1).strip());
        }
        return tags;
    }

    private static List<String> uris(String value) {
        List<String> uris = new ArrayList<>();
        if (value != null) {
            for (String uri : value.split(",")) {
                if (!uri.isBlank()) {
                    uris.add(uri.strip());
                }
            }
        }
        return List.copyOf(uris);
    }

    private static int percent(String value) {
        try {
            int percent = value == null ? 100 : Integer.parseInt(value);
            return percent < 0 || percent > 100 ? 100 : percent;
        } catch (NumberFormatException e) {
            return 100;
        }
    }
}
