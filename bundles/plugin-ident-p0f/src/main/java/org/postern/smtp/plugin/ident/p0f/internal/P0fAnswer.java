package org.postern.smtp.plugin.ident.p0f.internal;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * p0f 3's answer to an API query, field by field in the order of its README (unsigned dwords as {@code long}).
 * {@link #note()} is the {@code p0f} connection note qpsmtpd's plugin stores for it.
 */
public record P0fAnswer(long magic, long status, long firstSeen, long lastSeen, long totalConn, long uptimeMin, long upModDays,
        long lastNat, long lastChg, int distance, int badSw, int osMatchQ, String osName, String osFlavor, String httpName,
        String httpFlavor, String linkType, String language) {

    /** qpsmtpd's names of the fields, in the answer's order. */
    static final List<String> LABELS = List.of("magic", "status", "first_seen", "last_seen", "total_conn", "uptime_min",
            "up_mod_days", "last_nat", "last_chg", "distance", "bad_sw", "os_match_q", "os_name", "os_flavor", "http_name",
            "http_flavor", "link_type", "language");

    /** The fields' values in the answer's order, numbers as {@code Long}. */
    public List<Object> values() {
        return List.of(magic, status, firstSeen, lastSeen, totalConn, uptimeMin, upModDays, lastNat, lastChg, (long) distance,
                (long) badSw, (long) osMatchQ, osName, osFlavor, httpName, httpFlavor, linkType, language);
    }

    /**
     * p0f 2's {@code genre}, as qpsmtpd makes it of p0f 3's answer: the OS name and its flavour ({@code Linux 3.x});
     * empty when p0f has not recognised the OS.
     */
    public Optional<String> genre() {
        return osName.isEmpty() ? Optional.empty() : Optional.of(osName + " " + osFlavor);
    }

    /**
     * qpsmtpd's {@code p0f} note: every field by its label (numbers as {@code Long}, texts as {@code String}), then,
     * when the OS was recognised, p0f 2's {@code genre}, {@code link} (the link type, if known) and {@code uptime}
     * (in minutes, if known), which plugins written for p0f 2 read.
     */
    public Map<String, Object> note() {
        Map<String, Object> note = new LinkedHashMap<>();
        List<Object> values = values();
        for (int i = 0; i < LABELS.size(); i++) {
            note.put(LABELS.get(i), values.get(i));
        }
        genre().ifPresent(genre -> {
            note.put("genre", genre);
            if (!linkType.isEmpty()) {
                note.put("link", linkType);
            }
            if (uptimeMin != 0) {
                note.put("uptime", uptimeMin);
            }
        });
        return Collections.unmodifiableMap(note);
    }
}
