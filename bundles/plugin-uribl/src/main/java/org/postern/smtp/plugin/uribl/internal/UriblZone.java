package org.postern.smtp.plugin.uribl.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.postern.smtp.api.dns.DnsNames;

/**
 * One line of {@code uribl_zones}: the zone, then optionally the masks of the lists it combines
 * ({@code 2,8}) and an action that overrides the plugin's.
 *
 * @param mask the bits of an A record's last three octets that count; {@link #ALL_LISTS} checks every list
 */
record UriblZone(String name, int mask, Action action) {
    /** qpsmtpd's default mask: every list of a composite zone. */
    static final int ALL_LISTS = 0x00ffffff;

    /**
     * Parses every line, skipping blank lines and {@code #} comments. What cannot be used is reported and replaced
     * by the default (a mask, an action) or skipped (a line without a zone).
     */
    static List<UriblZone> parseAll(List<String> lines, Action fallback, Consumer<String> problem) {
        List<UriblZone> zones = new ArrayList<>();
        for (String line : lines) {
            String[] columns = line.strip().split("\\s+");
            if (columns[0].isEmpty() || columns[0].startsWith("#")) {
                continue;
            }
            String zone = columns[0].toLowerCase(Locale.ROOT).replaceFirst("\\.$", "");
            // a mask list written in a .cfg file arrives split at its commas, leaving a line such as "8 deny"
            if (!zone.matches("[a-z0-9_-]+(\\.[a-z0-9_-]+)+")) {
                problem.accept("'" + line.strip() + "' names no DNS zone, skipped (in a .cfg file commas separate values:"
                        + " write the masks 2,8 as their sum, 10)");
                continue;
            }
            int mask = columns.length > 1 ? mask(columns[1], zone, problem) : ALL_LISTS;
            Action action = fallback;
            if (columns.length > 2) {
                action = Action.named(columns[2]).orElseGet(() -> {
                    problem.accept("unknown action '" + columns[2] + "' for " + zone + ", using " + fallback);
                    return fallback;
                });
            }
            zones.add(new UriblZone(zone, mask, action));
        }
        return List.copyOf(zones);
    }

    /** The bits of a comma-separated mask list; a negative value, or none at all (0), means every list. */
    private static int mask(String column, String zone, Consumer<String> problem) {
        int mask = 0;
        for (String value : column.split(",")) {
            if (!value.matches("-?\\d{1,10}")) {
                problem.accept("malformed mask '" + column + "' for " + zone + ", checking every list");
                return ALL_LISTS;
            }
            long number = Long.parseLong(value);
            mask |= number < 0 ? ALL_LISTS : (int) (number & ALL_LISTS);
        }
        return mask == 0 ? ALL_LISTS : mask;
    }

    /**
     * True when this A record lists the name: RFC 5782's listing range (so never the 127.255.255.x error codes)
     * with one of the mask's bits set.
     */
    boolean lists(InetAddress answer) {
        if (!DnsNames.isListing(answer)) {
            return false;
        }
        byte[] octets = answer.getAddress();
        int value = (octets[1] & 0xff) << 16 | (octets[2] & 0xff) << 8 | octets[3] & 0xff;
        return (value & mask) != 0;
    }
}
